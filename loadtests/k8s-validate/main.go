package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . <folder or file.yaml>...")
		os.Exit(2)
	}
	rep, errs := ValidatePaths(os.Args[1:])
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, e)
	}
	var parts []string
	for k, n := range rep.Objects {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	if len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "k8s-validate: %d problem(s) in %d file(s)\n", len(errs), rep.Files)
		os.Exit(1)
	}
	fmt.Printf("k8s-validate: %d file(s) ok: %s\n", rep.Files, strings.Join(sortStrings(parts), " "))
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}
