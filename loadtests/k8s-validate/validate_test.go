package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: client-probe
  namespace: fiblab
  labels: { fiblab.role: client }
spec:
  completionMode: Indexed
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: loadclient
          image: fiblab/loadclient:latest
          env:
            - name: CLIENT_INDEX
              valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } }
          resources: { requests: { cpu: 500m }, limits: { cpu: 500m } }
`

const goodTestRun = `apiVersion: k6.io/v1alpha1
kind: TestRun
metadata: { name: fib20, namespace: fiblab }
spec:
  parallelism: 2
  script: { configMap: { name: k6-script, file: fib.js } }
  arguments: --out fiblab-hdr=/out/k6-hdr.json
  runner:
    image: fiblab/k6:latest
    env: [{ name: RATE, value: "40" }]
    containerSecurityContext: { readOnlyRootFilesystem: true }
    volumes: [{ name: tmp, emptyDir: {} }]
    volumeMounts: [{ name: tmp, mountPath: /tmp }]
`

func write(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cell.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAccepts(t *testing.T) {
	rep, errs := ValidatePaths([]string{write(t, "# comment\n---\n"+goodJob+"---\n"+goodTestRun)})
	if len(errs) > 0 {
		t.Fatalf("unexpected problems: %v", errs)
	}
	if rep.Objects["batch/v1/Job"] != 1 || rep.Objects["k6.io/v1alpha1/TestRun"] != 1 {
		t.Fatalf("counts: %v", rep.Objects)
	}
}

func TestRejects(t *testing.T) {
	cases := map[string]struct{ text, want string }{
		"unknown field in a pod spec": {strings.Replace(goodJob, "restartPolicy: Never", "restartPolicy: Never\n      restartPolcy: Never", 1), "unknown field"},
		"field at the wrong level":    {strings.Replace(goodJob, "  completions: 2", "  completions: 2\n  replicas: 2", 1), "unknown field"},
		"unknown field in a TestRun":  {strings.Replace(goodTestRun, "parallelism: 2", "parallelism: 2\n  paralellism: 2", 1), "unknown field"},
		"unknown field in a runner":   {strings.Replace(goodTestRun, "image: fiblab/k6:latest", "image: fiblab/k6:latest\n    command: [k6]", 1), "unknown field"},
		"wrong type":                  {strings.Replace(goodJob, "completions: 2", "completions: two", 1), "cannot unmarshal"},
		"duplicate key":               {strings.Replace(goodJob, "parallelism: 2", "parallelism: 2\n  parallelism: 3", 1), "duplicate"},
		"unknown kind":                {strings.Replace(goodJob, "kind: Job", "kind: Jobb", 1), "unexpected apiVersion/kind"},
		"bad env name":                {strings.Replace(goodJob, "name: CLIENT_INDEX", "name: CLIENT-INDEX=", 1), "env"},
		"request above limit":         {strings.Replace(goodJob, "requests: { cpu: 500m }", "requests: { cpu: 600m }", 1), "above the limit"},
		"bad name":                    {strings.Replace(goodJob, "name: client-probe", "name: Client_Probe", 1), "metadata.name"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, errs := ValidatePaths([]string{write(t, c.text)})
			if len(errs) == 0 {
				t.Fatal("accepted")
			}
			if !strings.Contains(errs[0].Error(), c.want) {
				t.Fatalf("want %q in %v", c.want, errs[0])
			}
		})
	}
}
