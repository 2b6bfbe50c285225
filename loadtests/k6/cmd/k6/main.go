// fiblab's k6: k6 itself plus the fiblab-hdr output extension, assembled the way xk6 does it (a
// main package importing k6's cmd and the extension), built by scripts/build-k6.sh.
package main

import (
	k6cmd "go.k6.io/k6/cmd"

	_ "fiblab/loadtests/k6/hdrout" // registers --out fiblab-hdr
)

func main() {
	k6cmd.Execute()
}
