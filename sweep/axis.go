package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxRuns bounds the number of runs one sweep file may expand to.
const MaxRuns = 100000

// Value is one value of an axis: the text put in place of its placeholder and,
// when it is a number, the number (for tables and plots).
type Value struct {
	Text  string
	Num   float64
	IsNum bool
}

// Axis is a named list of values.
type Axis struct {
	Name   string
	Values []Value
}

// parseAxis reads an axis from its TOML value: an array of numbers, strings or
// booleans, or a range table
//
//	{ from = A, to = B, n = N }          N evenly spaced values, A and B included
//	{ from = A, to = B, n = N, log = true }  N values evenly spaced in log (A, B > 0)
//	{ from = A, to = B, step = S }       A, A+S, ... up to B (included when it lands on it)
func parseAxis(name string, v any) (Axis, error) {
	ax := Axis{Name: name}
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return ax, fmt.Errorf("axis %q is empty: give it at least one value", name)
		}
		if len(t) > MaxRuns {
			return ax, fmt.Errorf("axis %q has %d values, more than %d", name, len(t), MaxRuns)
		}
		for _, e := range t {
			val, err := scalar(e)
			if err != nil {
				return ax, fmt.Errorf("axis %q: %v", name, err)
			}
			ax.Values = append(ax.Values, val)
		}
	case map[string]any:
		vals, err := parseRange(t)
		if err != nil {
			return ax, fmt.Errorf("axis %q: %v", name, err)
		}
		ax.Values = vals
	default:
		// One value alone is an axis of one value.
		val, err := scalar(v)
		if err != nil {
			return ax, fmt.Errorf("axis %q: want a list [..] or a range {from, to, n or step}: %v", name, err)
		}
		ax.Values = []Value{val}
	}
	return ax, nil
}

func scalar(e any) (Value, error) {
	switch x := e.(type) {
	case int64:
		return Value{Text: strconv.FormatInt(x, 10), Num: float64(x), IsNum: true}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Value{}, fmt.Errorf("value %v is not finite", x)
		}
		return numValue(x), nil
	case string:
		if x == "" {
			return Value{}, fmt.Errorf("empty string value")
		}
		if strings.ContainsAny(x, "\x00\n") {
			return Value{}, fmt.Errorf("value %q holds a newline or NUL", x)
		}
		v := Value{Text: x}
		if f, err := strconv.ParseFloat(x, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			v.Num, v.IsNum = f, true
		}
		return v, nil
	case bool:
		return Value{Text: strconv.FormatBool(x)}, nil
	}
	return Value{}, fmt.Errorf("value %v (%T) is not a number, string or boolean", e, e)
}

// numValue formats x with 12 significant digits at most, so that a range's
// 1.5 + 3×0.25 prints 2.25 and not 2.2500000000000004.
func numValue(x float64) Value {
	if x != 0 {
		x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	}
	if x == 0 {
		x = 0 // no "-0"
	}
	var s string
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e15) {
		s = strconv.FormatFloat(x, 'g', -1, 64)
	} else {
		s = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return Value{Text: s, Num: x, IsNum: true}
}

func number(t map[string]any, key string) (float64, bool, error) {
	v, ok := t[key]
	if !ok {
		return 0, false, nil
	}
	switch x := v.(type) {
	case int64:
		return float64(x), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, true, fmt.Errorf("%s = %v is not finite", key, x)
		}
		return x, true, nil
	}
	return 0, true, fmt.Errorf("%s = %v is not a number", key, v)
}

func parseRange(t map[string]any) ([]Value, error) {
	for k := range t {
		switch k {
		case "from", "to", "n", "step", "log":
		default:
			return nil, fmt.Errorf("unknown range key %q (a range is {from, to, n} or {from, to, step}, with log = true for log spacing)", k)
		}
	}
	from, hasFrom, err := number(t, "from")
	if err != nil {
		return nil, err
	}
	to, hasTo, err := number(t, "to")
	if err != nil {
		return nil, err
	}
	if !hasFrom || !hasTo {
		return nil, fmt.Errorf("a range needs from and to (and n or step)")
	}
	isLog := false
	if l, ok := t["log"]; ok {
		b, ok := l.(bool)
		if !ok {
			return nil, fmt.Errorf("log = %v: want true or false", l)
		}
		isLog = b
	}
	_, hasN := t["n"]
	step, hasStep, err := number(t, "step")
	if err != nil {
		return nil, err
	}
	switch {
	case hasN && hasStep:
		return nil, fmt.Errorf("give n or step, not both")
	case hasN:
		nv, ok := t["n"].(int64)
		if !ok {
			return nil, fmt.Errorf("n = %v: want a whole number", t["n"])
		}
		if nv < 1 {
			return nil, fmt.Errorf("n = %d: the range is empty; want n >= 1", nv)
		}
		if nv > MaxRuns {
			return nil, fmt.Errorf("n = %d is more than %d", nv, MaxRuns)
		}
		n := int(nv)
		if n == 1 && from != to {
			return nil, fmt.Errorf("n = 1 but from = %v and to = %v differ", from, to)
		}
		if isLog && (from <= 0 || to <= 0) {
			return nil, fmt.Errorf("log = true needs from and to > 0, got from = %v, to = %v", from, to)
		}
		vals := make([]Value, n)
		for i := range vals {
			var x float64
			switch {
			case i == n-1:
				x = to
			case isLog:
				x = math.Exp(math.Log(from) + float64(i)*(math.Log(to)-math.Log(from))/float64(n-1))
			default:
				x = from + float64(i)*(to-from)/float64(n-1)
			}
			vals[i] = numValue(x)
		}
		if n == 1 {
			vals[0] = numValue(from)
		}
		return vals, nil
	case hasStep:
		if isLog {
			return nil, fmt.Errorf("log = true goes with n, not step")
		}
		if step == 0 || (to-from)/step < 0 {
			return nil, fmt.Errorf("step = %v never gets from %v to %v: the range is empty", step, from, to)
		}
		count := math.Floor((to-from)/step+1e-9) + 1
		if count > MaxRuns {
			return nil, fmt.Errorf("from %v to %v by %v makes %.0f values, more than %d", from, to, step, count, MaxRuns)
		}
		vals := make([]Value, int(count))
		for i := range vals {
			vals[i] = numValue(from + float64(i)*step)
		}
		return vals, nil
	}
	return nil, fmt.Errorf("a range needs n (how many values) or step")
}

// Setting is one axis's value in one run.
type Setting struct {
	Axis  string
	Value Value
}

// Expand returns the settings of every run: the zip groups move together,
// and the groups (each axis not zipped is a group of its own) are crossed,
// the first axis of the file varying slowest. It fails when there would be
// more than MaxRuns runs.
func (f *File) Expand() ([][]Setting, error) {
	// Groups in the order of their first axis in the file.
	type group struct{ axes []*Axis }
	var groups []group
	inZip := map[string]int{}
	for gi, g := range f.Zip {
		for _, name := range g {
			inZip[name] = gi
		}
	}
	placed := map[int]bool{}
	for i := range f.Axes {
		a := &f.Axes[i]
		gi, ok := inZip[a.Name]
		if !ok {
			groups = append(groups, group{axes: []*Axis{a}})
			continue
		}
		if placed[gi] {
			continue
		}
		placed[gi] = true
		var g group
		for _, name := range f.Zip[gi] {
			g.axes = append(g.axes, f.axis(name))
		}
		groups = append(groups, g)
	}
	total := 1
	for _, g := range groups {
		total *= len(g.axes[0].Values)
		if total > MaxRuns {
			return nil, fmt.Errorf("%s: the axes make more than %d runs", f.Path, MaxRuns)
		}
	}
	runs := make([][]Setting, 0, total)
	idx := make([]int, len(groups))
	for r := 0; r < total; r++ {
		// Mixed-radix digits of r, the last group fastest.
		rem := r
		for gi := len(groups) - 1; gi >= 0; gi-- {
			n := len(groups[gi].axes[0].Values)
			idx[gi] = rem % n
			rem /= n
		}
		var set []Setting
		for gi, g := range groups {
			for _, a := range g.axes {
				set = append(set, Setting{Axis: a.Name, Value: a.Values[idx[gi]]})
			}
		}
		// Back to file order.
		ordered := make([]Setting, 0, len(set))
		for _, a := range f.Axes {
			for _, s := range set {
				if s.Axis == a.Name {
					ordered = append(ordered, s)
				}
			}
		}
		runs = append(runs, ordered)
	}
	return runs, nil
}

// Command returns step's words with every placeholder filled from set and
// the builtins (index, run folder, folder of the sweep file).
func (s Step) Command(set []Setting, builtin map[string]string) ([]string, error) {
	out := make([]string, len(s.Words))
	for i, w := range s.Words {
		v, err := substitute(w, func(name string) (string, bool) {
			for _, st := range set {
				if st.Axis == name {
					return st.Value.Text, true
				}
			}
			v, ok := builtin[name]
			return v, ok
		})
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
