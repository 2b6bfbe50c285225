package main

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A few of the API server's own checks that a strict decode cannot see: names, label keys and
// values, environment variable names, ConfigMap keys, a Deployment's selector against its pods,
// CPU limits against requests. (Not the whole of the server's validation, which lives in
// k8s.io/kubernetes; a real cluster has the last word.)

func checkObject(obj any) error {
	var errs []error
	add := func(field string, msgs []string) {
		for _, m := range msgs {
			errs = append(errs, fmt.Errorf("%s: %s", field, m))
		}
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		checkMeta(o.ObjectMeta, validation.IsDNS1123Label, false, add)
	case *corev1.Service:
		checkMeta(o.ObjectMeta, validation.IsDNS1035Label, true, add)
		add("spec.selector", labelProblems(o.Spec.Selector))
	case *corev1.ConfigMap:
		checkMeta(o.ObjectMeta, validation.IsDNS1123Subdomain, true, add)
		for k := range o.Data {
			add("data."+k, validation.IsConfigMapKey(k))
		}
	case *corev1.PersistentVolumeClaim:
		checkMeta(o.ObjectMeta, validation.IsDNS1123Subdomain, true, add)
	case *corev1.Pod:
		checkMeta(o.ObjectMeta, validation.IsDNS1123Subdomain, true, add)
		checkPodSpec("spec", o.Spec, add)
	case *appsv1.Deployment:
		checkMeta(o.ObjectMeta, validation.IsDNS1123Subdomain, true, add)
		checkSelector(o.Spec.Selector, o.Spec.Template.Labels, add)
		checkPodSpec("spec.template.spec", o.Spec.Template.Spec, add)
	case *batchv1.Job:
		// Its pods carry the job's name as a label value: at most 63 characters.
		checkMeta(o.ObjectMeta, validation.IsDNS1123Label, true, add)
		add("spec.template.metadata.labels", labelProblems(o.Spec.Template.Labels))
		checkPodSpec("spec.template.spec", o.Spec.Template.Spec, add)
	case *TestRun:
		checkTestRun(o, add)
	}
	return errors.Join(errs...)
}

func checkTestRun(o *TestRun, add func(string, []string)) {
	// The operator names runner jobs "<name>-<index>" and "<name>-initializer": DNS labels.
	initializer := func(name string) []string { return validation.IsDNS1123Label(name + "-initializer") }
	checkMeta(o.ObjectMeta, initializer, true, add)
	if o.Spec.Parallelism < 1 {
		add("spec.parallelism", []string{"must be at least 1"})
	}
	if o.Spec.Script.ConfigMap.Name == "" {
		add("spec.script.configMap.name", []string{"required"})
	}
	pods := map[string]*Pod{"spec.runner": &o.Spec.Runner}
	if o.Spec.Initializer != nil {
		pods["spec.initializer"] = o.Spec.Initializer
	}
	for field, p := range pods {
		add(field+".metadata.labels", labelProblems(p.Metadata.Labels))
		checkEnv(field+".env", p.Env, add)
		checkResources(field+".resources", p.Resources, add)
		vols := map[string]bool{}
		for _, v := range p.Volumes {
			vols[v.Name] = true
		}
		for i, m := range p.VolumeMounts {
			if !vols[m.Name] {
				add(fmt.Sprintf("%s.volumeMounts[%d]", field, i), []string{fmt.Sprintf("no volume %q", m.Name)})
			}
		}
	}
}

// checkMeta: the name by the API server's rule for the kind, then namespace, labels and annotations.
func checkMeta(m metav1.ObjectMeta, nameRule func(string) []string, namespaced bool, add func(string, []string)) {
	add("metadata.name", nameRule(m.Name))
	if namespaced {
		add("metadata.namespace", validation.IsDNS1123Label(m.Namespace))
	}
	add("metadata.labels", labelProblems(m.Labels))
	for k := range m.Annotations {
		add("metadata.annotations."+k, validation.IsQualifiedName(k))
	}
}

func labelProblems(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		for _, m := range validation.IsQualifiedName(k) {
			out = append(out, fmt.Sprintf("key %q: %s", k, m))
		}
		for _, m := range validation.IsValidLabelValue(v) {
			out = append(out, fmt.Sprintf("value %q of %q: %s", v, k, m))
		}
	}
	return out
}

func checkSelector(sel *metav1.LabelSelector, podLabels map[string]string, add func(string, []string)) {
	if sel == nil || len(sel.MatchLabels) == 0 {
		add("spec.selector", []string{"required (matchLabels)"})
		return
	}
	for k, v := range sel.MatchLabels {
		if podLabels[k] != v {
			add("spec.selector.matchLabels."+k, []string{"does not match the pod template's labels"})
		}
	}
}

func checkPodSpec(field string, spec corev1.PodSpec, add func(string, []string)) {
	vols := map[string]bool{}
	for _, v := range spec.Volumes {
		add(field+".volumes.name", validation.IsDNS1123Label(v.Name))
		vols[v.Name] = true
	}
	if len(spec.Containers) == 0 {
		add(field+".containers", []string{"at least one container"})
	}
	for i, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		cf := fmt.Sprintf("%s.containers[%d]", field, i)
		add(cf+".name", validation.IsDNS1123Label(c.Name))
		if c.Image == "" {
			add(cf+".image", []string{"required"})
		}
		checkEnv(cf+".env", c.Env, add)
		checkResources(cf+".resources", c.Resources, add)
		for j, m := range c.VolumeMounts {
			if !vols[m.Name] {
				add(fmt.Sprintf("%s.volumeMounts[%d]", cf, j), []string{fmt.Sprintf("no volume %q", m.Name)})
			}
		}
	}
}

func checkEnv(field string, env []corev1.EnvVar, add func(string, []string)) {
	seen := map[string]bool{}
	for _, e := range env {
		add(field+"."+e.Name, validation.IsEnvVarName(e.Name))
		if seen[e.Name] {
			add(field+"."+e.Name, []string{"set twice"})
		}
		seen[e.Name] = true
		if e.Value != "" && e.ValueFrom != nil {
			add(field+"."+e.Name, []string{"value and valueFrom are exclusive"})
		}
	}
}

func checkResources(field string, r corev1.ResourceRequirements, add func(string, []string)) {
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			add(field+".requests."+string(name), []string{fmt.Sprintf("%s is above the limit %s", req.String(), lim.String())})
		}
	}
}
