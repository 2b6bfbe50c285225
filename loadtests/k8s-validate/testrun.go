package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The k6-operator's TestRun (apiVersion k6.io/v1alpha1) has no type in k8s.io/api. These structs
// copy, from github.com/grafana/k6-operator api/v1alpha1/testrun_types.go (the TestRun, TestRunSpec,
// K6Script, K6Configmap, Pod and PodMetadata types, operator v1.x), only the fields fiblab's export
// writes, with the operator's own JSON names and Go types. Strict decoding against them rejects any
// field the export writes that the operator does not have (or that this copy has not vetted).
// Nested types (env, resources, security contexts, volumes) are the real k8s.io/api ones, as in the
// operator.

// TestRun is k6.io/v1alpha1 TestRun without its status.
type TestRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TestRunSpec `json:"spec,omitempty"`
}

// TestRunSpec: the subset of the operator's TestRunSpec the export uses.
type TestRunSpec struct {
	// Script describes where the k6 script is located.
	Script K6Script `json:"script"`
	// Parallelism is the number of k6 runners (the operator gives each its --execution-segment).
	Parallelism int32 `json:"parallelism"`
	// Arguments to pass to the k6 process, as a space-separated string.
	Arguments string `json:"arguments,omitempty"`
	// Configuration for the initializer Pod (if omitted, a copy of the runner's).
	Initializer *Pod `json:"initializer,omitempty"`
	// Configuration for a runner Pod.
	Runner Pod `json:"runner,omitempty"`
}

// K6Script: only the ConfigMap source.
type K6Script struct {
	ConfigMap K6Configmap `json:"configMap,omitempty"`
}

// K6Configmap names the ConfigMap and the key holding the script (mounted at /test).
type K6Configmap struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
}

// PodMetadata is copied whole.
type PodMetadata struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// Pod: the subset of the operator's Pod the export uses.
type Pod struct {
	Env                      []corev1.EnvVar             `json:"env,omitempty"`
	Image                    string                      `json:"image,omitempty"`
	ImagePullPolicy          corev1.PullPolicy           `json:"imagePullPolicy,omitempty"`
	Metadata                 PodMetadata                 `json:"metadata,omitempty"`
	Resources                corev1.ResourceRequirements `json:"resources,omitempty"`
	SecurityContext          corev1.PodSecurityContext   `json:"securityContext,omitempty"`
	ContainerSecurityContext corev1.SecurityContext      `json:"containerSecurityContext,omitempty"`
	Volumes                  []corev1.Volume             `json:"volumes,omitempty"`
	VolumeMounts             []corev1.VolumeMount        `json:"volumeMounts,omitempty"`
}
