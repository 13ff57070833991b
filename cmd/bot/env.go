package main

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env is the environment as run sees it: main passes the process's, tests
// and the demo their own. It can be listed, so that a misspelled EMPATHY_*
// variable is an error rather than a silently ignored setting.
type Env map[string]string

// EnvFrom reads KEY=value pairs (os.Environ's format).
func EnvFrom(kv []string) Env {
	e := Env{}
	for _, s := range kv {
		if k, v, ok := strings.Cut(s, "="); ok {
			e[k] = v
		}
	}
	return e
}

// Getenv is the variable's value, "" when unset.
func (e Env) Getenv(k string) string { return e[k] }

// readEnv fills the fields of spec (a pointer to a struct) tagged
// envconfig:"NAME" from env, or from their default:"..." tag: strings,
// comma-separated lists (spaces around items are dropped), durations, ints
// and floats. Every error names the variable. The tags are envconfig's, so
// the struct still documents itself the way envconfig users expect; envconfig
// itself reads only the process environment, which run must not.
func readEnv(env Env, spec any) error {
	v := reflect.ValueOf(spec).Elem()
	known := map[string]bool{}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" || f.Tag.Get("ignored") == "true" {
			continue
		}
		known[name] = true
		raw, set := env[name]
		if !set || raw == "" {
			raw = f.Tag.Get("default")
		}
		if raw == "" {
			continue
		}
		field := v.Field(i)
		switch {
		case f.Type == reflect.TypeOf(time.Duration(0)):
			d, err := time.ParseDuration(strings.TrimSpace(raw))
			if err != nil {
				return fmt.Errorf("%s must be a duration such as 90s, 10m or 24h, got %q", name, raw)
			}
			field.SetInt(int64(d))
		case f.Type.Kind() == reflect.String:
			field.SetString(strings.TrimSpace(raw))
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			var items []string
			for _, it := range strings.Split(raw, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
			field.Set(reflect.ValueOf(items))
		case f.Type.Kind() == reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil {
				return fmt.Errorf("%s must be a whole number, got %q", name, raw)
			}
			field.SetInt(int64(n))
		case f.Type.Kind() == reflect.Float64:
			x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s must be a number, got %q", name, raw)
			}
			field.SetFloat(x)
		default:
			return fmt.Errorf("%s: unsupported field type %s", name, f.Type)
		}
	}
	var unknown []string
	for k := range env {
		if strings.HasPrefix(k, "EMPATHY_") && !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		k := unknown[0]
		msg := fmt.Sprintf("%s is not a setting of empathybot", k)
		if near := nearest(k, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		if len(unknown) > 1 {
			msg += fmt.Sprintf("; nor are %s", strings.Join(unknown[1:], ", "))
		}
		return fmt.Errorf("%s; see README.md for the list", msg)
	}
	return nil
}

// nearest is the known name closest to k by edit distance, if close enough
// to be a typo.
func nearest(k string, known map[string]bool) string {
	best, bestD := "", 4
	for n := range known {
		if d := editDistance(k, n); d < bestD || d == bestD && n < best {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
