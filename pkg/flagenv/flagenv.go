// Package flagenv declares command-line flags whose defaults come from
// environment variables, so every program is configured the same way: a
// flag wins over its variable, which wins over the built-in default. It also
// prints the resulting configuration with secrets masked.
package flagenv

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Set is a flag set that remembers each flag's variable and whether it is
// secret.
type Set struct {
	*flag.FlagSet
	vars    map[string]string // flag name -> env var
	secrets map[string]bool
	errs    []error
}

// New returns an empty Set named name that returns parse errors instead of
// exiting.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{FlagSet: fs, vars: map[string]string{}, secrets: map[string]bool{}}
}

func (s *Set) envOr(name, env, def, usage string) (string, string) {
	s.vars[name] = env
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	return def, fmt.Sprintf("%s (env %s)", usage, env)
}

// String declares a string flag defaulting to $env, else def.
func (s *Set) String(name, env, def, usage string) *string {
	def, usage = s.envOr(name, env, def, usage)
	return s.FlagSet.String(name, def, usage)
}

// Secret is String for a value that must never be printed.
func (s *Set) Secret(name, env, def, usage string) *string {
	s.secrets[name] = true
	return s.String(name, env, def, usage)
}

// Duration declares a duration flag defaulting to $env, else def.
func (s *Set) Duration(name, env string, def time.Duration, usage string) *time.Duration {
	d, usage := s.envOr(name, env, def.String(), usage)
	v, err := time.ParseDuration(d)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s=%q: not a duration", env, d))
		v = def
	}
	return s.FlagSet.Duration(name, v, usage)
}

// Int declares an int flag defaulting to $env, else def.
func (s *Set) Int(name, env string, def int, usage string) *int {
	d, usage := s.envOr(name, env, strconv.Itoa(def), usage)
	v, err := strconv.Atoi(d)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s=%q: not a number", env, d))
		v = def
	}
	return s.FlagSet.Int(name, v, usage)
}

// Parse parses args and reports malformed variables as well as flags.
func (s *Set) Parse(args []string) error {
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	return s.FlagSet.Parse(args)
}

// Print writes one "name = value (env VAR)" line per flag, secrets and URL
// passwords masked, sorted by name.
func (s *Set) Print(w io.Writer) {
	var lines []string
	s.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		switch {
		case s.secrets[f.Name] && v != "":
			v = "****"
		case v == "":
			v = `""`
		default:
			v = MaskURL(v)
		}
		lines = append(lines, fmt.Sprintf("  %-16s = %s (env %s)", f.Name, v, s.vars[f.Name]))
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// MaskURL hides the password of a URL with credentials; anything else is
// returned unchanged.
func MaskURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "****")
		return strings.Replace(u.String(), "%2A%2A%2A%2A", "****", 1)
	}
	return v
}
