package model

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Bind registers the tagged fields of the struct cfg points to as flags of fs,
// with the fields' current values as defaults:
//
//	type Config struct {
//		Hidden int     `flag:"hidden" help:"hidden units" range:"[1,65536]"`
//		LR     float64 `flag:"lr" help:"learning rate" range:"(0,inf)"`
//		Method string  `flag:"method" help:"negative phase" choices:"cd|pcd|pt"`
//		Sizes  []int   `flag:"sizes" help:"layer sizes, comma-separated"`
//	}
//
// Field types: int, uint64, float64, string, bool and []int (a comma-separated
// list; each element is checked against range). A field tagged `resume:"free"`
// may change when a run is resumed (the number of epochs); every other flag
// must keep its saved value. Untagged fields are left alone. Validate checks
// range and choices after parsing. Bind panics if cfg is not a pointer to a
// struct or a tagged field has another type: both are bugs in a family.
func Bind(fs *flag.FlagSet, cfg any) {
	eachField(cfg, func(f reflect.StructField, v reflect.Value) {
		name, help := f.Tag.Get("flag"), f.Tag.Get("help")
		if c := f.Tag.Get("choices"); c != "" {
			help += " (" + strings.ReplaceAll(c, "|", ", ") + ")"
		}
		if r := f.Tag.Get("range"); r != "" {
			help += " in " + r
		}
		switch p := v.Addr().Interface().(type) {
		case *int:
			fs.IntVar(p, name, *p, help)
		case *uint64:
			fs.Uint64Var(p, name, *p, help)
		case *float64:
			fs.Float64Var(p, name, *p, help)
		case *string:
			fs.StringVar(p, name, *p, help)
		case *bool:
			fs.BoolVar(p, name, *p, help)
		case *[]int:
			fs.Var(namedInts{(*intsValue)(p), name}, name, help)
		default:
			panic(fmt.Sprintf("model: Bind: field %s (--%s) has type %s", f.Name, name, f.Type))
		}
	})
}

// eachField calls fn for every field of *cfg with a flag tag.
func eachField(cfg any, fn func(reflect.StructField, reflect.Value)) {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("model: want a pointer to a config struct, got %T", cfg))
	}
	rv = rv.Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			eachField(rv.Field(i).Addr().Interface(), fn)
			continue
		}
		if f.Tag.Get("flag") == "" {
			continue
		}
		fn(f, rv.Field(i))
	}
}

// FlagError is a mistake in a flag's value: the CLI exits 2 for it.
type FlagError struct {
	Flag string // without dashes
	Msg  string
}

func (e *FlagError) Error() string { return "--" + e.Flag + ": " + e.Msg }

// Flagf returns a FlagError for flag name.
func Flagf(name, format string, args ...any) error {
	return &FlagError{Flag: name, Msg: fmt.Sprintf(format, args...)}
}

// IsFlagError reports whether err is (or wraps) a FlagError.
func IsFlagError(err error) bool {
	var fe *FlagError
	return errors.As(err, &fe)
}

// Validate checks every tagged field of *cfg against its range and choices
// tags and, when cfg has a method Validate() error, calls it. Errors name the
// flag, the bound and the value.
func Validate(cfg any) error {
	var err error
	eachField(cfg, func(f reflect.StructField, v reflect.Value) {
		if err != nil {
			return
		}
		name := f.Tag.Get("flag")
		if c := f.Tag.Get("choices"); c != "" {
			s := fmt.Sprint(v.Interface())
			ok := false
			for _, w := range strings.Split(c, "|") {
				ok = ok || s == w
			}
			if !ok {
				err = Flagf(name, "must be one of %s, got %q", strings.ReplaceAll(c, "|", ", "), s)
				return
			}
		}
		r := f.Tag.Get("range")
		if r == "" {
			if x, ok := v.Interface().(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
				err = Flagf(name, "must be a finite number, got %v", x)
			}
			return
		}
		iv, perr := parseInterval(r)
		if perr != nil {
			panic(fmt.Sprintf("model: field %s: %v", f.Name, perr))
		}
		switch x := v.Interface().(type) {
		case int:
			err = iv.check(name, float64(x), strconv.Itoa(x))
		case uint64:
			err = iv.check(name, float64(x), strconv.FormatUint(x, 10))
		case float64:
			err = iv.check(name, x, strconv.FormatFloat(x, 'g', -1, 64))
		case []int:
			for _, e := range x {
				if err = iv.check(name, float64(e), (*intsValue)(&x).String()); err != nil {
					break
				}
			}
		}
	})
	if err != nil {
		return err
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// interval is a range tag: "[1,65536]", "(0,inf)", "[0,1)".
type interval struct {
	lo, hi         float64
	loOpen, hiOpen bool
	text           string
}

func parseInterval(s string) (interval, error) {
	iv := interval{text: s}
	if len(s) < 5 || !strings.ContainsRune("[(", rune(s[0])) || !strings.ContainsRune("])", rune(s[len(s)-1])) {
		return iv, fmt.Errorf("bad range tag %q", s)
	}
	lo, hi, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return iv, fmt.Errorf("bad range tag %q", s)
	}
	var err1, err2 error
	iv.lo, err1 = strconv.ParseFloat(strings.TrimSpace(lo), 64)
	iv.hi, err2 = strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if err1 != nil || err2 != nil {
		return iv, fmt.Errorf("bad range tag %q", s)
	}
	iv.loOpen, iv.hiOpen = s[0] == '(', s[len(s)-1] == ')'
	return iv, nil
}

func (iv interval) check(name string, x float64, text string) error {
	bad := math.IsNaN(x) || x < iv.lo || x > iv.hi || (iv.loOpen && x == iv.lo) || (iv.hiOpen && x == iv.hi)
	if !bad {
		return nil
	}
	return Flagf(name, "must be in %s, got %s", iv.text, text)
}

// intsValue is a []int flag: "400,400".
type intsValue []int

func (v *intsValue) String() string {
	if v == nil {
		return ""
	}
	s := make([]string, len(*v))
	for i, n := range *v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (v *intsValue) Set(s string) error {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("want comma-separated whole numbers (e.g. 400,400), got %q", s)
		}
		out = append(out, n)
	}
	*v = out
	return nil
}

// namedInts is an intsValue whose parse error names its flag.
type namedInts struct {
	*intsValue
	name string
}

func (v namedInts) Set(s string) error {
	if err := v.intsValue.Set(s); err != nil {
		return fmt.Errorf("--%s wants comma-separated whole numbers (e.g. --%s 400,400), got %q", v.name, v.name, s)
	}
	return nil
}

// FlagValues returns the value of every flag of fs in its own syntax.
func FlagValues(fs *flag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

// GivenFlags returns the flags set on the command line, with their values.
func GivenFlags(fs *flag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.Visit(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	return out
}

// FreeFlags returns the names of the fields of *cfg tagged resume:"free".
func FreeFlags(cfg any) map[string]bool {
	out := map[string]bool{}
	eachField(cfg, func(f reflect.StructField, _ reflect.Value) {
		if f.Tag.Get("resume") == "free" {
			out[f.Tag.Get("flag")] = true
		}
	})
	return out
}
