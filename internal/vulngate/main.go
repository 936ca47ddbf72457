// Command vulngate reads govulncheck's JSON output (-format json) on stdin
// and decides: it lists every vulnerability the code calls, and exits 1
// when one is in a module (a dependency to upgrade). Vulnerabilities of the
// standard library fail too unless -stdlib=warn, for a machine whose Go
// toolchain cannot be changed by the project alone; they are listed either
// way, with the Go version that fixes them.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
)

// finding is the part of a govulncheck finding this command reads.
type finding struct {
	OSV          string `json:"osv"`
	FixedVersion string `json:"fixed_version"`
	Trace        []struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
	} `json:"trace"`
}

func main() {
	stdlib := flag.String("stdlib", "fail", "what standard library vulnerabilities do: fail or warn")
	flag.Parse()
	if *stdlib != "fail" && *stdlib != "warn" {
		fmt.Fprintln(os.Stderr, "vulngate: -stdlib must be fail or warn")
		os.Exit(2)
	}
	mods, std, err := called(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulngate: %v\n", err)
		os.Exit(2)
	}
	for _, line := range mods {
		fmt.Println("called, in a dependency: " + line)
	}
	for _, line := range std {
		fmt.Println("called, in the standard library: " + line)
	}
	switch {
	case len(mods) > 0:
		fmt.Printf("vulngate: %d vulnerabilities in dependencies the code calls: upgrade them\n", len(mods))
		os.Exit(1)
	case len(std) > 0 && *stdlib == "fail":
		fmt.Printf("vulngate: %d vulnerabilities in the standard library the code calls: use a Go toolchain that fixes them\n", len(std))
		os.Exit(1)
	case len(std) > 0:
		fmt.Printf("vulngate: no called vulnerability in dependencies; %d in the standard library, fixed by a newer Go toolchain (warning only)\n", len(std))
	default:
		fmt.Println("vulngate: no called vulnerability")
	}
}

// called returns one line per vulnerability the code calls (a finding at
// symbol level), in dependencies and in the standard library.
func called(r io.Reader) (mods, std []string, err error) {
	dec := json.NewDecoder(r)
	seen := map[string]bool{}
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("read govulncheck output: %w", err)
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" || seen[f.OSV] {
			continue // not a finding, or one in code that is not called
		}
		seen[f.OSV] = true
		at := f.Trace[0]
		line := fmt.Sprintf("%s in %s@%s (%s.%s), fixed in %s", f.OSV, at.Module, at.Version, at.Package, at.Function, f.FixedVersion)
		if at.Module == "stdlib" {
			std = append(std, line)
		} else {
			mods = append(mods, line)
		}
	}
	slices.Sort(mods)
	slices.Sort(std)
	return mods, std, nil
}
