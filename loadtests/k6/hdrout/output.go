package hdrout

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.k6.io/k6/metrics"
	"go.k6.io/k6/output"
)

// Name is the output's name on k6's command line: --out fiblab-hdr=/out/k6-hdr.json
const Name = "fiblab-hdr"

// DefaultFile is where the file goes when --out fiblab-hdr is given without a path.
const DefaultFile = "k6-hdr.json"

func init() {
	output.RegisterExtension(Name, New)
}

// Output is the k6 output: samples are buffered by k6's SampleBuffer and folded into the
// Aggregator by a periodic flusher goroutine; Stop folds the rest and writes the file.
type Output struct {
	output.SampleBuffer

	path    string
	logger  logrus.FieldLogger
	flusher *output.PeriodicFlusher
	agg     *Aggregator
	mu      sync.Mutex // the aggregator, between the flusher and Stop
	stopped bool
}

var (
	_ output.Output                = (*Output)(nil)
	_ output.WithStopWithTestError = (*Output)(nil)
)

// New is the output's constructor; the argument after "fiblab-hdr=" is the file's path.
func New(p output.Params) (output.Output, error) {
	path := p.ConfigArgument
	if path == "" {
		path = DefaultFile
	}
	logger := p.Logger
	if logger == nil {
		logger = logrus.New()
	}
	return &Output{path: path, logger: logger.WithField("output", Name), agg: NewAggregator()}, nil
}

// Description is shown by k6 run.
func (o *Output) Description() string {
	return fmt.Sprintf("%s (%s: HdrHistograms in µs per group, phase and outcome, written at the end)", Name, o.path)
}

// Start checks that the file's folder is writable and starts the flusher.
func (o *Output) Start() error {
	dir := filepath.Dir(o.path)
	probe, err := os.CreateTemp(dir, ".fiblab-hdr-probe-*")
	if err != nil {
		return fmt.Errorf("%s: cannot write into %s: %w", Name, dir, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	pf, err := output.NewPeriodicFlusher(200*time.Millisecond, o.flush)
	if err != nil {
		return err
	}
	o.flusher = pf
	return nil
}

func (o *Output) flush() {
	samples := o.GetBufferedSamples()
	if len(samples) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.agg.Add(samples)
}

// AddMetricSamples is SampleBuffer's (non-blocking append).
func (o *Output) AddMetricSamples(samples []metrics.SampleContainer) {
	o.SampleBuffer.AddMetricSamples(samples)
}

// Stop is StopWithTestError without an error.
func (o *Output) Stop() error { return o.StopWithTestError(nil) }

// StopWithTestError folds the last samples in and writes the file atomically (tmp + rename).
func (o *Output) StopWithTestError(testErr error) error {
	if o.flusher != nil {
		o.flusher.Stop() // one last flush
	}
	o.flush()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return nil
	}
	o.stopped = true
	began := time.Now()
	f, err := o.agg.Result(began)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	if testErr != nil {
		f.TestError = testErr.Error()
	}
	size, err := WriteFile(o.path, f)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	o.logger.WithFields(logrus.Fields{"file": o.path, "bytes": size, "samples": o.agg.Samples, "ms": time.Since(began).Milliseconds()}).
		Debug("wrote the histograms")
	return nil
}

// WriteFile writes f as JSON to path through a temporary file in the same folder and a rename.
func WriteFile(path string, f *File) (int, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	name := tmp.Name()
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		_ = os.Remove(name)
		return 0, err
	}
	return len(data), nil
}
