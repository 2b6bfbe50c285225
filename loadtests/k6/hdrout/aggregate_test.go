package hdrout

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"go.k6.io/k6/metrics"
)

// go test ./hdrout -update rewrites the fixtures in testdata/ that the orchestrator's TS tests
// decode (orchestrator/test/fleet/k6-result.test.ts).
var update = flag.Bool("update", false, "rewrite testdata fixtures")

type fx struct {
	reg                                          *metrics.Registry
	reqs, dur, wait, wrong, worker, dropped, vus *metrics.Metric
	root                                         *metrics.TagSet
}

func newFx() *fx {
	r := metrics.NewRegistry()
	return &fx{
		reg:     r,
		reqs:    r.MustNewMetric("http_reqs", metrics.Counter),
		dur:     r.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time),
		wait:    r.MustNewMetric("http_req_waiting", metrics.Trend, metrics.Time),
		wrong:   r.MustNewMetric("fiblab_wrong_answer", metrics.Trend, metrics.Time),
		worker:  r.MustNewMetric("fiblab_worker", metrics.Counter),
		dropped: r.MustNewMetric("dropped_iterations", metrics.Counter),
		vus:     r.MustNewMetric("vus", metrics.Gauge),
		root:    r.RootTagSet().With("client_group", "g"),
	}
}

func (f *fx) phaseTags(phase string) *metrics.TagSet {
	return f.root.With("phase", phase).With("scenario", phase)
}

// request returns the samples of one request as k6's trail carries them (http_reqs,
// http_req_duration, the timing parts), ending at end.
func (f *fx) request(phase, status, errorCode, errMsg string, ms float64, end time.Time) metrics.SampleContainer {
	t := f.phaseTags(phase).With("status", status)
	if errorCode != "" {
		t = t.With("error_code", errorCode)
	}
	if errMsg != "" {
		t = t.With("error", errMsg)
	}
	s := func(m *metrics.Metric, v float64) metrics.Sample {
		return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: t}, Time: end, Value: v}
	}
	return metrics.ConnectedSamples{Samples: []metrics.Sample{s(f.reqs, 1), s(f.dur, ms), s(f.wait, ms*0.9)}, Tags: t, Time: end}
}

func (f *fx) sample(m *metrics.Metric, tags *metrics.TagSet, v float64, at time.Time) metrics.Sample {
	return metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: tags}, Time: at, Value: v}
}

func decode(t *testing.T, s string) *hdrhistogram.Histogram {
	t.Helper()
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return h
}

func TestNetworkKind(t *testing.T) {
	cases := []struct {
		code int
		msg  string
		want string
	}{
		{1050, "request timeout", "timeout"},
		{1211, "dial: i/o timeout", "timeout"},
		{1210, "dial tcp", "connect"},
		{1212, "dial: connection refused", "connect"},
		{1101, "lookup: no such host", "connect"},
		{1220, "read: connection reset by peer", "reset"},
		{1201, "write: broken pipe", "reset"},
		{1000, "EOF", "closed"},
		{1000, "http: server closed idle connection", "closed"},
		{1000, "something else", "k6_1000"},
		{0, "", "k6_0"},
	}
	for _, c := range cases {
		if got := NetworkKind(c.code, c.msg); got != c.want {
			t.Errorf("NetworkKind(%d, %q) = %q, want %q", c.code, c.msg, got, c.want)
		}
	}
	for _, c := range []struct{ status, code, want string }{
		{"200", "", "ok"}, {"503", "1503", "http_5xx"}, {"404", "1404", "http_4xx"},
		{"302", "", "http_other"}, {"0", "1050", "timeout"}, {"", "1212", "connect"},
	} {
		if got := Classify(c.status, c.code, ""); got != c.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", c.status, c.code, got, c.want)
		}
	}
}

func TestMsToUs(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want int64
	}{{0, 1}, {0.0004, 1}, {0.0006, 1}, {1.2345, 1235}, {250, 250000}, {-3, 1}} {
		if got := MsToUs(c.ms); got != c.want {
			t.Errorf("MsToUs(%v) = %d, want %d", c.ms, got, c.want)
		}
	}
	if got := MsToUs(4e6 * 1000); got <= HighestUs {
		t.Errorf("MsToUs beyond an hour = %d, want > HighestUs", got)
	}
}

// The aggregation: phases apart, every request in exactly one outcome histogram (so the sum of
// the counts is k6's http_reqs), wrong answers moved out of ok, per-second intervals.
func TestAggregate(t *testing.T) {
	f := newFx()
	a := NewAggregator()
	base := time.UnixMilli(1_700_000_000_000) // a whole second
	var batch []metrics.SampleContainer
	// warm-up: must not leak into the measure phase
	batch = append(batch, f.request("warmup", "200", "", "", 9000, base.Add(-time.Second)))
	batch = append(batch, f.request("warmup", "500", "1500", "", 1, base.Add(-time.Second)))
	batch = append(batch, f.sample(f.dropped, f.root.With("scenario", "warmup"), 3, base))
	// measure: 100 ok at 1.25 .. 100.25 ms over seconds 0..1, 2 x 5xx, 1 timeout, 1 reset, 1 EOF
	for i := 1; i <= 100; i++ {
		end := base.Add(time.Duration(i*20)*time.Millisecond + 150*time.Millisecond)
		ms := float64(i) + 0.25
		batch = append(batch, f.request("measure", "200", "", "", ms, end))
		w := "a/1"
		if i%2 == 0 {
			w = "b/2"
		}
		batch = append(batch, f.sample(f.worker, f.phaseTags("measure").With("worker", w), 1, end))
	}
	batch = append(batch, f.request("measure", "503", "1503", "", 2, base.Add(500*time.Millisecond)))
	batch = append(batch, f.request("measure", "500", "1500", "", 2, base.Add(1500*time.Millisecond)))
	batch = append(batch, f.request("measure", "0", "1050", "request timeout", 10000, base.Add(11*time.Second)))
	batch = append(batch, f.request("measure", "0", "1220", "read: connection reset by peer", 3, base.Add(700*time.Millisecond)))
	batch = append(batch, f.request("measure", "0", "1000", "EOF", 3, base.Add(800*time.Millisecond)))
	// two wrong answers: requests 10 and 60 (their trails are the 200s above); the JS sample comes
	// a little after the trail's end, the second one across a second boundary.
	batch = append(batch, f.sample(f.wrong, f.phaseTags("measure"), 10.25, base.Add(350*time.Millisecond+300*time.Microsecond)))
	batch = append(batch, f.sample(f.wrong, f.phaseTags("measure"), 60.25, base.Add(1350*time.Millisecond)))
	batch = append(batch, f.sample(f.dropped, f.root.With("scenario", "measure"), 4, base.Add(time.Second)))
	batch = append(batch, f.sample(f.vus, f.root, 5, base))
	a.Add(batch)

	file, err := a.Result(base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m := file.Groups["g"]["measure"]
	w := file.Groups["g"]["warmup"]
	if m == nil || w == nil {
		t.Fatalf("phases: %+v", file.Groups)
	}
	wantCounts := map[string]int64{"ok": 98, "wrong_answer": 2, "http_5xx": 2, "timeout": 1, "reset": 1, "closed": 1}
	var sum int64
	for k, v := range wantCounts {
		if m.Counts[k] != v {
			t.Errorf("measure count %s = %d, want %d (all: %v)", k, m.Counts[k], v, m.Counts)
		}
		sum += v
	}
	if len(m.Counts) != len(wantCounts) {
		t.Errorf("measure outcomes %v", m.Counts)
	}
	if m.HTTPReqs != 105 || sum != m.HTTPReqs {
		t.Errorf("http_reqs %d, sum of outcomes %d", m.HTTPReqs, sum)
	}
	if w.HTTPReqs != 2 || w.Counts["ok"] != 1 || w.Counts["http_5xx"] != 1 || w.Dropped != 3 {
		t.Errorf("warmup %+v", w)
	}
	if m.Dropped != 4 || m.Workers["a/1"] != 50 || m.Workers["b/2"] != 50 {
		t.Errorf("dropped %d workers %v", m.Dropped, m.Workers)
	}
	if m.Unmatched != 0 || m.IntervalUnmatched != 0 {
		t.Errorf("unmatched %d / %d", m.Unmatched, m.IntervalUnmatched)
	}
	ok := decode(t, m.Histograms["ok"])
	if ok.TotalCount() != 98 || ok.Min() < 1249 || ok.Min() > 1251 || ok.Max() < 100_200 || ok.Max() > 100_300 {
		t.Errorf("ok histogram: count %d min %d max %d", ok.TotalCount(), ok.Min(), ok.Max())
	}
	wrong := decode(t, m.Histograms["wrong_answer"])
	if wrong.TotalCount() != 2 || !wrong.ValuesAreEquivalent(wrong.Min(), 10250) || !wrong.ValuesAreEquivalent(wrong.Max(), 60250) {
		t.Errorf("wrong_answer histogram: count %d min %d max %d", wrong.TotalCount(), wrong.Min(), wrong.Max())
	}
	to := decode(t, m.Histograms["timeout"])
	if to.TotalCount() != 1 || !to.ValuesAreEquivalent(to.Max(), 10_000_000) {
		t.Errorf("timeout histogram: %d %d", to.TotalCount(), to.Max())
	}
	// start = end − latency: 150 + 20i − (i + 0.25) ms after base; i = 1..42 start in second 0
	// (i = 42: 150 + 840 − 42.25 = 947.75), 43..100 in second 1 (i = 100: 2150 − 100.25 = 2049.75
	// is second 2). The timeout (ends 11 s, 10 s long) started in second 1.
	var okSum, errSum int64
	byT := map[int64]Interval{}
	for _, iv := range m.Intervals {
		byT[(iv.T-base.UnixMilli())/1000] = iv
		okSum += iv.OK
		for _, n := range iv.Errors {
			errSum += n
		}
		if h := decode(t, iv.Histogram); h.TotalCount() != iv.OK {
			t.Errorf("interval %d: histogram count %d, ok %d", iv.T, h.TotalCount(), iv.OK)
		}
	}
	if okSum != 98 || errSum != 7 {
		t.Errorf("intervals: ok %d errors %d (%+v)", okSum, errSum, m.Intervals)
	}
	if byT[0].Errors["wrong_answer"] != 1 || byT[1].Errors["wrong_answer"] != 1 || byT[1].Errors["timeout"] != 1 {
		t.Errorf("intervals: %+v", m.Intervals)
	}
	// X-Worker per second, by the reply's time: ends 170 + 20(i-1) ms, so i = 1..42 in second 0
	// (odd i a/1, even b/2), 43..92 in second 1, 93..100 in second 2.
	var workerSum int64
	for _, iv := range m.Intervals {
		for _, n := range iv.Workers {
			workerSum += n
		}
	}
	if workerSum != 100 || byT[0].Workers["a/1"] != 21 || byT[0].Workers["b/2"] != 21 || byT[2].Workers["a/1"]+byT[2].Workers["b/2"] != 8 {
		t.Errorf("interval workers: sum %d, %v %v %v", workerSum, byT[0].Workers, byT[1].Workers, byT[2].Workers)
	}
	if m.FirstMs != base.UnixMilli()+150+20-1 || m.LastMs != base.Add(11*time.Second).UnixMilli() {
		t.Errorf("first %d last %d", m.FirstMs-base.UnixMilli(), m.LastMs-base.UnixMilli())
	}

	if *update {
		writeJSON(t, "k6-hdr.json", file)
	}
}

// A wrong answer whose 200 never arrived is counted, not invented.
func TestUnmatchedWrongAnswer(t *testing.T) {
	f := newFx()
	a := NewAggregator()
	base := time.UnixMilli(1_700_000_000_000)
	a.Add([]metrics.SampleContainer{
		f.request("measure", "200", "", "", 5, base),
		f.sample(f.wrong, f.phaseTags("measure"), 7, base),
	})
	file, err := a.Result(base)
	if err != nil {
		t.Fatal(err)
	}
	m := file.Groups["g"]["measure"]
	if m.Counts["ok"] != 1 || m.Counts["wrong_answer"] != 0 || m.Unmatched != 1 || m.IntervalUnmatched != 1 {
		t.Errorf("%+v", m)
	}
}

func TestClampAndEmpty(t *testing.T) {
	f := newFx()
	a := NewAggregator()
	base := time.UnixMilli(1_700_000_000_000)
	a.Add([]metrics.SampleContainer{f.request("measure", "200", "", "", 5e6*1000, base)})
	file, err := a.Result(base)
	if err != nil {
		t.Fatal(err)
	}
	if file.Clamped != 1 || decode(t, file.Groups["g"]["measure"].Histograms["ok"]).TotalCount() != 1 {
		t.Errorf("clamped %d", file.Clamped)
	}
	// only 5xx: the ok histogram is still there, empty
	a = NewAggregator()
	a.Add([]metrics.SampleContainer{f.request("measure", "500", "1500", "", 5, base)})
	file, _ = a.Result(base)
	m := file.Groups["g"]["measure"]
	if m.Counts["ok"] != 0 || decode(t, m.Histograms["ok"]).TotalCount() != 0 {
		t.Errorf("%+v", m)
	}
}

// RoundTrip values, generated the same way by the TS test: 10 000 values from 1 µs to ~2 s, plus
// the extremes. The fixture carries Go's encoding and Go's percentiles; the TS side decodes it
// with hdr-histogram-js and compares with both.
func roundTripValues() []int64 {
	vs := make([]int64, 0, 10003)
	for i := int64(0); i < 10000; i++ {
		vs = append(vs, 1+(i*i*7919)%2_000_000)
	}
	return append(vs, 1, 123_456_789, HighestUs)
}

type roundTripFixture struct {
	Note        string            `json:"note"`
	Histogram   string            `json:"histogram"`
	Count       int64             `json:"count"`
	Min         int64             `json:"min"`
	Max         int64             `json:"max"`
	Percentiles map[string]int64  `json:"percentiles"`
	Raw         map[string]string `json:"raw,omitempty"`
}

var roundTripPercentiles = []float64{0, 10, 50, 90, 99, 99.9, 99.99, 100}

func TestRoundTripFixture(t *testing.T) {
	p := newHist()
	dense := hdrhistogram.New(LowestUs, HighestUs, SignificantDigits)
	for _, v := range roundTripValues() {
		if err := p.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		_ = dense.RecordValue(v)
	}
	enc, err := encode(p)
	if err != nil {
		t.Fatal(err)
	}
	denseEnc, err := dense.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	if enc != string(denseEnc) {
		t.Errorf("packed and dense encodings differ")
	}
	back := decode(t, enc)
	if back.TotalCount() != int64(len(roundTripValues())) || !back.Equals(dense) {
		t.Fatalf("Go round trip: count %d", back.TotalCount())
	}
	fx := roundTripFixture{
		Note:        "written by go test ./hdrout -update (loadtests/k6); read by orchestrator/test/fleet/k6-result.test.ts",
		Histogram:   enc,
		Count:       back.TotalCount(),
		Min:         back.Min(),
		Max:         back.Max(),
		Percentiles: map[string]int64{},
	}
	for _, q := range roundTripPercentiles {
		fx.Percentiles[formatQ(q)] = back.ValueAtPercentile(q)
	}
	path := filepath.Join("testdata", "roundtrip.json")
	if *update {
		writeJSON(t, "roundtrip.json", fx)
		return
	}
	var old roundTripFixture
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./hdrout -update)", err)
	}
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	oldH := decode(t, old.Histogram)
	if !oldH.Equals(back) || old.Count != fx.Count {
		t.Errorf("testdata/roundtrip.json is stale (run go test ./hdrout -update)")
	}
	for k, v := range fx.Percentiles {
		if old.Percentiles[k] != v {
			t.Errorf("fixture p%s = %d, now %d", k, old.Percentiles[k], v)
		}
	}
}

func formatQ(q float64) string {
	b, _ := json.Marshal(q)
	return string(b)
}

func writeJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k6-hdr.json")
	a := NewAggregator()
	f, err := a.Result(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n, err := WriteFile(path, f)
	if err != nil || n == 0 {
		t.Fatal(n, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	var back File
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &back); err != nil || back.Format != FormatName {
		t.Errorf("%v %+v", err, back)
	}
}

// The extension's cost per request: one trail of 9 samples (as k6 sends it), a worker counter.
func BenchmarkAggregateRequest(b *testing.B) {
	f := newFx()
	a := NewAggregator()
	base := time.UnixMilli(1_700_000_000_000)
	t := f.phaseTags("measure").With("status", "200")
	wt := f.phaseTags("measure").With("worker", "w/1")
	samples := make([]metrics.Sample, 9)
	batch := []metrics.SampleContainer{metrics.ConnectedSamples{Samples: samples, Tags: t}, f.sample(f.worker, wt, 1, base)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		end := base.Add(time.Duration(i) * 100 * time.Microsecond) // 10k req/s
		ms := 0.2 + float64(i%5000)/100                            // 0.2 .. 50 ms
		for k := range samples {
			m := f.wait
			switch k {
			case 0:
				m = f.reqs
			case 1:
				m = f.dur
			}
			samples[k] = metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: m, Tags: t}, Time: end, Value: ms}
		}
		a.Add(batch)
	}
}

// The file of a 60 s window at 10k req/s, with a wide latency spread (log-normal around 2 ms, a
// tail to seconds) so that every second populates many buckets: its size and the time to build it.
func BenchmarkFile60sAt10k(b *testing.B) {
	f := newFx()
	base := time.UnixMilli(1_700_000_000_000)
	t := f.phaseTags("measure").With("status", "200")
	rng := rand.New(rand.NewSource(1))
	const n = 600_000
	lat := make([]float64, n)
	for i := range lat {
		lat[i] = math.Exp(rng.NormFloat64()*1.2) * 2 // ms
	}
	for it := 0; it < b.N; it++ {
		a := NewAggregator()
		samples := make([]metrics.Sample, 2)
		for i := 0; i < n; i++ {
			end := base.Add(time.Duration(i)*100*time.Microsecond + time.Duration(lat[i]*float64(time.Millisecond)))
			samples[0] = metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: f.reqs, Tags: t}, Time: end, Value: 1}
			samples[1] = metrics.Sample{TimeSeries: metrics.TimeSeries{Metric: f.dur, Tags: t}, Time: end, Value: lat[i]}
			a.Add([]metrics.SampleContainer{metrics.Samples(samples)})
		}
		began := time.Now()
		file, err := a.Result(began)
		if err != nil {
			b.Fatal(err)
		}
		data, err := json.Marshal(file)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(data)), "file-bytes")
		b.ReportMetric(float64(time.Since(began).Milliseconds()), "write-ms")
		b.ReportMetric(float64(len(file.Groups["g"]["measure"].Intervals)), "intervals")
		if *update {
			if err := os.WriteFile(filepath.Join(os.TempDir(), "k6-hdr-60s-10k.json"), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
