// Package hdrout is fiblab's k6 output extension: instead of one JSON line per metric sample, it
// keeps HdrHistograms in memory (per client group, phase and outcome, plus one per second of the
// measured window) and writes them once, at the end of the run, as one small JSON file that
// orchestrator/src/fleet/k6-result.ts reads.
//
// What it reads from k6's sample stream (everything else is ignored):
//
//	http_req_duration    one per HTTP request (k6's own trail, the same one that counts http_reqs):
//	                     its latency and, from the system tags status / error_code / error, its
//	                     outcome: ok (status 200), http_4xx, http_5xx, http_other, timeout,
//	                     connect, reset, closed or k6_<code>
//	http_reqs            counted per phase, as k6 counts it (a cross-check of the histograms)
//	fiblab_wrong_answer  Trend (ms) that fib.js adds for a 200 reply with a wrong body: that
//	                     request moves from ok to wrong_answer (same latency, same phase)
//	fiblab_worker        Counter tagged worker=<X-Worker>
//	dropped_iterations   open model: arrivals that found no free VU
//
// The phase is the `phase` tag fib.js sets per scenario (warmup | measure), else the scenario name.
package hdrout

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"go.k6.io/k6/metrics"
)

// The lab's histogram settings (loadtests/contract/env.ts HISTOGRAM_SETTINGS): µs, lowest 1,
// 3 significant digits. hdr-histogram-js resizes itself; hdrhistogram-go has a fixed top, so it
// is one hour, and anything longer is recorded as one hour (and counted in Clamped).
const (
	LowestUs          = 1
	HighestUs         = int64(3_600_000_000)
	SignificantDigits = 3
)

// MeasurePhase is the phase whose seconds get interval histograms.
const MeasurePhase = "measure"

// Outcome of a request that got the correct reply.
const OutcomeOK = "ok"

// WrongAnswer is the outcome of a 200 reply whose body fib.js found wrong.
const WrongAnswer = "wrong_answer"

func newHist() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(LowestUs, HighestUs, SignificantDigits)
}

// MsToUs converts k6's float milliseconds to whole µs, at least 1 (as k6-result.ts always did).
func MsToUs(ms float64) int64 {
	if !(ms > 0) { // also NaN
		return 1
	}
	us := math.Round(ms * 1000)
	if us < 1 {
		return 1
	}
	if us > float64(HighestUs) {
		return HighestUs + 1 // out of range: the caller clamps and counts it
	}
	return int64(us)
}

var closedMessage = regexp.MustCompile(`(?i)EOF|closed`)

// NetworkKind maps a k6 error code (lib/netext/httpext/error_codes.go) and its message to the
// lab's error kinds, exactly as fib.js did before this extension.
func NetworkKind(code int, message string) string {
	switch {
	case code == 1050 || code == 1211:
		return "timeout"
	case code == 1210 || code == 1212 || code == 1213 || (code >= 1100 && code < 1200):
		return "connect"
	case code == 1201 || code == 1220:
		return "reset"
	case message != "" && closedMessage.MatchString(message):
		return "closed"
	default:
		return "k6_" + strconv.Itoa(code)
	}
}

// Classify gives the outcome of one request from the trail's system tags. A 200 is "ok" here;
// fib.js's fiblab_wrong_answer moves it to wrong_answer afterwards.
func Classify(status, errorCode, errorMessage string) string {
	st, err := strconv.Atoi(status)
	if err != nil || st == 0 {
		code, _ := strconv.Atoi(errorCode)
		return NetworkKind(code, errorMessage)
	}
	switch {
	case st == 200:
		return OutcomeOK
	case st >= 500:
		return "http_5xx"
	case st >= 400:
		return "http_4xx"
	default:
		return "http_other"
	}
}

type second struct {
	ok200  *hdrhistogram.PackedHistogram // every 200 started in this second (wrong answers included)
	wrong  *hdrhistogram.PackedHistogram // lazily: wrong answers started in this second
	errors map[string]int64              // non-200 outcomes by kind
	// lazily: replies per X-Worker answered in this second (by the fiblab_worker sample's time,
	// the reply's: the script has no start time to give it)
	workers map[string]int64
}

type phaseAgg struct {
	httpReqs int64
	outcomes map[string]*hdrhistogram.PackedHistogram // "ok" holds every 200 until the end
	wrong    *hdrhistogram.PackedHistogram
	dropped  int64
	workers  map[string]int64
	firstMs  int64 // earliest request start
	lastMs   int64 // latest request end
	seconds  map[int64]*second
	// wrong answers whose second held no 200 of the same latency to move (should stay 0)
	intervalUnmatched int64
}

type groupAgg struct {
	phases map[string]*phaseAgg
}

// Aggregator folds k6 samples into histograms. Not safe for concurrent use.
type Aggregator struct {
	groups map[string]*groupAgg
	// Clamped counts latencies above one hour recorded as one hour.
	Clamped int64
	// Samples counts the samples seen (all metrics).
	Samples int64
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{groups: map[string]*groupAgg{}}
}

func tag(ts *metrics.TagSet, name string) string {
	if ts == nil {
		return ""
	}
	v, _ := ts.Get(name)
	return v
}

func (a *Aggregator) phase(tags *metrics.TagSet) *phaseAgg {
	group := tag(tags, "client_group")
	ph := tag(tags, "phase")
	if ph == "" {
		ph = tag(tags, "scenario")
	}
	if ph == "" {
		ph = "none"
	}
	g := a.groups[group]
	if g == nil {
		g = &groupAgg{phases: map[string]*phaseAgg{}}
		a.groups[group] = g
	}
	p := g.phases[ph]
	if p == nil {
		p = &phaseAgg{
			outcomes: map[string]*hdrhistogram.PackedHistogram{},
			workers:  map[string]int64{},
			firstMs:  math.MaxInt64,
			lastMs:   math.MinInt64,
		}
		if ph == MeasurePhase {
			p.seconds = map[int64]*second{}
		}
		g.phases[ph] = p
	}
	return p
}

func (a *Aggregator) us(ms float64) int64 {
	v := MsToUs(ms)
	if v > HighestUs {
		a.Clamped++
		return HighestUs
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Add folds one batch of k6 samples in.
func (a *Aggregator) Add(containers []metrics.SampleContainer) {
	for _, c := range containers {
		for _, s := range c.GetSamples() {
			a.AddSample(s)
		}
	}
}

// AddSample folds one k6 sample in.
func (a *Aggregator) AddSample(s metrics.Sample) {
	a.Samples++
	if s.Metric == nil {
		return
	}
	switch s.Metric.Name {
	case "http_req_duration":
		p := a.phase(s.Tags)
		us := a.us(s.Value)
		endMs := s.Time.UnixMilli()
		startMs := endMs - us/1000
		if startMs < p.firstMs {
			p.firstMs = startMs
		}
		if endMs > p.lastMs {
			p.lastMs = endMs
		}
		outcome := Classify(tag(s.Tags, "status"), tag(s.Tags, "error_code"), tag(s.Tags, "error"))
		h := p.outcomes[outcome]
		if h == nil {
			h = newHist()
			p.outcomes[outcome] = h
		}
		_ = h.RecordValue(us) // in range by construction
		if p.seconds != nil {
			sec := p.second(floorDiv(startMs, 1000))
			if outcome == OutcomeOK {
				_ = sec.ok200.RecordValue(us)
			} else {
				sec.errors[outcome]++
			}
		}
	case "http_reqs":
		a.phase(s.Tags).httpReqs += int64(math.Round(s.Value))
	case "fiblab_wrong_answer":
		a.wrongAnswer(a.phase(s.Tags), s)
	case "fiblab_worker":
		p := a.phase(s.Tags)
		w := tag(s.Tags, "worker")
		if w == "" {
			w = "unknown"
		}
		n := int64(math.Round(s.Value))
		p.workers[w] += n
		if p.seconds != nil {
			sec := p.second(floorDiv(s.Time.UnixMilli(), 1000))
			if sec.workers == nil {
				sec.workers = map[string]int64{}
			}
			sec.workers[w] += n
		}
	case "dropped_iterations":
		a.phase(s.Tags).dropped += int64(math.Round(s.Value))
	}
}

func (p *phaseAgg) second(sec int64) *second {
	x := p.seconds[sec]
	if x == nil {
		x = &second{ok200: newHist(), errors: map[string]int64{}}
		p.seconds[sec] = x
	}
	return x
}

// wrongAnswer records a 200 with a wrong body. Its trail is already in the "ok" histograms; the
// move happens when the file is written. fib.js adds the sample right after the reply, so its time
// is at or just after the trail's end: the request started in the computed second or the one
// before.
func (a *Aggregator) wrongAnswer(p *phaseAgg, s metrics.Sample) {
	us := a.us(s.Value)
	if p.wrong == nil {
		p.wrong = newHist()
	}
	_ = p.wrong.RecordValue(us)
	if p.seconds == nil {
		return
	}
	sec := floorDiv(s.Time.UnixMilli()-us/1000, 1000)
	for _, cand := range []int64{sec, sec - 1, sec + 1} {
		x := p.seconds[cand]
		if x == nil {
			continue
		}
		taken := int64(0)
		if x.wrong != nil {
			taken = x.wrong.CountAtValue(us)
		}
		if x.ok200.CountAtValue(us) > taken {
			if x.wrong == nil {
				x.wrong = newHist()
			}
			_ = x.wrong.RecordValue(us)
			x.errors[WrongAnswer]++
			return
		}
	}
	p.intervalUnmatched++
}

// subtract returns a − b bucket by bucket (never below zero) and how much of b found nothing to
// take from.
func subtract(a, b *hdrhistogram.PackedHistogram) (*hdrhistogram.PackedHistogram, int64) {
	if b == nil || b.TotalCount() == 0 {
		return a, 0
	}
	out := newHist()
	a.ForEachBucket(func(v, c int64) bool {
		if n := c - b.CountAtValue(v); n > 0 {
			_ = out.RecordValues(v, n)
		}
		return true
	})
	return out, b.TotalCount() - (a.TotalCount() - out.TotalCount())
}

func encode(h *hdrhistogram.PackedHistogram) (string, error) {
	b, err := h.Encode()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Interval is one second of the measured window (the contract's IntervalSchema).
type Interval struct {
	T         int64            `json:"t"`
	OK        int64            `json:"ok"`
	Errors    map[string]int64 `json:"errors"`
	Histogram string           `json:"histogram"`
	// Replies per X-Worker answered in this second (omitted when none).
	Workers map[string]int64 `json:"workers,omitempty"`
}

// Phase is what the file holds for one group and phase.
type Phase struct {
	// HTTPReqs is k6's http_reqs for the phase; it equals the sum of Counts.
	HTTPReqs int64 `json:"httpReqs"`
	// Counts by outcome: ok, wrong_answer, http_5xx, timeout, ...
	Counts map[string]int64 `json:"counts"`
	// Histograms by outcome (µs, HdrHistogram V2 compressed, base64).
	Histograms map[string]string `json:"histograms"`
	Dropped    int64             `json:"dropped"`
	Workers    map[string]int64  `json:"workers"`
	// Earliest request start and latest request end, epoch ms (0 without requests).
	FirstMs int64 `json:"firstMs"`
	LastMs  int64 `json:"lastMs"`
	// Measure phase only: one entry per wall-clock second in which requests started.
	Intervals []Interval `json:"intervals,omitempty"`
	// Wrong answers that found no 200 of the same latency to move (should be 0), in the phase's
	// histograms and in the seconds' ones.
	Unmatched         int64 `json:"unmatched,omitempty"`
	IntervalUnmatched int64 `json:"intervalUnmatched,omitempty"`
}

// Settings records the histograms' parameters.
type Settings struct {
	Unit              string `json:"unit"`
	Lowest            int64  `json:"lowest"`
	Highest           int64  `json:"highest"`
	SignificantDigits int    `json:"significantDigits"`
}

// File is the JSON document the extension writes.
type File struct {
	Format    string                       `json:"format"`
	Settings  Settings                     `json:"settings"`
	WrittenAt int64                        `json:"writtenAt"`
	Groups    map[string]map[string]*Phase `json:"groups"`
	Clamped   int64                        `json:"clamped"`
	Samples   int64                        `json:"samples"`
	TestError string                       `json:"testError,omitempty"`
}

// FormatName identifies the file's layout.
const FormatName = "fiblab-k6-hdr/1"

// Result builds the file's content.
func (a *Aggregator) Result(now time.Time) (*File, error) {
	f := &File{
		Format:    FormatName,
		Settings:  Settings{Unit: "us", Lowest: LowestUs, Highest: HighestUs, SignificantDigits: SignificantDigits},
		WrittenAt: now.UnixMilli(),
		Groups:    map[string]map[string]*Phase{},
		Clamped:   a.Clamped,
		Samples:   a.Samples,
	}
	for gname, g := range a.groups {
		phases := map[string]*Phase{}
		for pname, p := range g.phases {
			out, err := p.result()
			if err != nil {
				return nil, fmt.Errorf("group %q phase %q: %w", gname, pname, err)
			}
			phases[pname] = out
		}
		f.Groups[gname] = phases
	}
	return f, nil
}

func (p *phaseAgg) result() (*Phase, error) {
	out := &Phase{
		HTTPReqs:   p.httpReqs,
		Counts:     map[string]int64{},
		Histograms: map[string]string{},
		Dropped:    p.dropped,
		Workers:    p.workers,

		IntervalUnmatched: p.intervalUnmatched,
	}
	if p.firstMs != math.MaxInt64 {
		out.FirstMs, out.LastMs = p.firstMs, p.lastMs
	}
	hists := map[string]*hdrhistogram.PackedHistogram{}
	for k, h := range p.outcomes {
		hists[k] = h
	}
	if p.wrong != nil && p.wrong.TotalCount() > 0 {
		ok := hists[OutcomeOK]
		if ok == nil {
			ok = newHist()
		}
		moved, missing := subtract(ok, p.wrong)
		hists[OutcomeOK] = moved
		// What moved out of ok is the wrong_answer histogram: ok − moved, bucket by bucket.
		wrong, _ := subtract(ok, moved)
		hists[WrongAnswer] = wrong
		out.Unmatched = missing
	}
	for k, h := range hists {
		s, err := encode(h)
		if err != nil {
			return nil, err
		}
		out.Histograms[k] = s
		out.Counts[k] = h.TotalCount()
	}
	if _, ok := hists[OutcomeOK]; !ok {
		empty, err := encode(newHist())
		if err != nil {
			return nil, err
		}
		out.Histograms[OutcomeOK] = empty
		out.Counts[OutcomeOK] = 0
	}
	if p.seconds != nil {
		keys := make([]int64, 0, len(p.seconds))
		for k := range p.seconds {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		out.Intervals = make([]Interval, 0, len(keys))
		for _, k := range keys {
			x := p.seconds[k]
			ok, _ := subtract(x.ok200, x.wrong)
			s, err := encode(ok)
			if err != nil {
				return nil, err
			}
			out.Intervals = append(out.Intervals, Interval{T: k * 1000, OK: ok.TotalCount(), Errors: x.errors, Histogram: s, Workers: x.workers})
		}
	}
	return out, nil
}
