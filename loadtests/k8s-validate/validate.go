package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kinds: every apiVersion/kind the export may write, and the typed struct it must decode into.
var kinds = map[string]func() any{
	"v1/Namespace":             func() any { return &corev1.Namespace{} },
	"v1/Service":               func() any { return &corev1.Service{} },
	"v1/ConfigMap":             func() any { return &corev1.ConfigMap{} },
	"v1/PersistentVolumeClaim": func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Pod":                   func() any { return &corev1.Pod{} },
	"apps/v1/Deployment":       func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":             func() any { return &batchv1.Job{} },
	"k6.io/v1alpha1/TestRun":   func() any { return &TestRun{} },
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// Counts per kind, for the summary line.
type Report struct {
	Files   int
	Objects map[string]int
}

// ValidatePaths checks every .yaml/.yml file under the given files and folders.
func ValidatePaths(paths []string) (Report, []error) {
	rep := Report{Objects: map[string]int{}}
	var errs []error
	for _, p := range paths {
		files, err := yamlFiles(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			rep.Files++
			errs = append(errs, validateFile(f, rep.Objects)...)
		}
	}
	if rep.Files == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no .yaml files in %s", strings.Join(paths, ", ")))
	}
	return rep, errs
}

func yamlFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			out = append(out, path)
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

func validateFile(path string, counts map[string]int) []error {
	text, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for i, doc := range docSeparator.Split(string(text), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		kind, err := validateDoc([]byte(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d (%s): %w", path, i, kind, err))
			continue
		}
		counts[kind]++
	}
	return errs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// validateDoc decodes one document strictly into its typed struct (an unknown or misplaced field,
// a wrong type or a duplicate key is an error), then checks names, labels and references.
func validateDoc(doc []byte) (string, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return "?", err
	}
	key := tm.APIVersion + "/" + tm.Kind
	newObj, ok := kinds[key]
	if !ok {
		return key, fmt.Errorf("unexpected apiVersion/kind %q", key)
	}
	obj := newObj()
	if err := strictDecode(doc, obj); err != nil {
		return key, err
	}
	return key, checkObject(obj)
}

func strictDecode(doc []byte, obj any) error {
	// yaml.UnmarshalStrict rejects duplicate keys; the JSON decoder, unknown fields at any depth.
	var generic any
	if err := yaml.UnmarshalStrict(doc, &generic); err != nil {
		return err
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return err
	}
	return nil
}
