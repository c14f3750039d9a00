// Package checkpoint reads and writes latent's versioned model files: a header, JSON
// metadata, named tensors and opaque blobs (optimiser and random-stream state), and a
// checksum. Writes are atomic: a crash during Save leaves the old file intact.
package checkpoint

import (
	"encoding"
	"encoding/json"
	"fmt"
)

// File is the in-memory content of a model file.
type File struct {
	Kind    string          // model kind: "rbm", "grbm", "vae", "gmm", ...
	Meta    json.RawMessage // model-defined settings and training state
	Tensors []Tensor

	// Set by Load: the latent version that wrote the file and its format
	// version. Save ignores them and writes LatentVersion and FormatVersion.
	LatentVersion string
	FormatVersion int
}

// Tensor is one named array. Exactly one of F32, F64 and Bytes is set.
type Tensor struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
	Bytes []byte
}

// SetMeta stores v as the JSON metadata.
func (f *File) SetMeta(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("checkpoint: metadata: %w", err)
	}
	f.Meta = b
	return nil
}

// GetMeta decodes the JSON metadata into v.
func (f *File) GetMeta(v any) error {
	if err := json.Unmarshal(f.Meta, v); err != nil {
		return fmt.Errorf("checkpoint: %s metadata: %w", f.Kind, err)
	}
	return nil
}

// AddF32 appends a float32 tensor (data not copied).
func (f *File) AddF32(name string, shape []int, data []float32) {
	if data == nil {
		data = []float32{}
	}
	f.Tensors = append(f.Tensors, Tensor{Name: name, Shape: shape, F32: data})
}

// AddF64 appends a float64 tensor (data not copied).
func (f *File) AddF64(name string, shape []int, data []float64) {
	if data == nil {
		data = []float64{}
	}
	f.Tensors = append(f.Tensors, Tensor{Name: name, Shape: shape, F64: data})
}

// AddBytes appends an opaque blob, such as a random stream's MarshalBinary output.
func (f *File) AddBytes(name string, data []byte) {
	if data == nil {
		data = []byte{}
	}
	f.Tensors = append(f.Tensors, Tensor{Name: name, Shape: []int{len(data)}, Bytes: data})
}

func (f *File) find(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// Has reports whether f holds a tensor or blob called name (for parts that
// files written by older versions lack).
func (f *File) Has(name string) bool { return f.find(name) != nil }

// F32 returns the float32 tensor name, checking that it has n elements.
func (f *File) F32(name string, n int) ([]float32, error) {
	t := f.find(name)
	if t == nil || t.F32 == nil {
		return nil, fmt.Errorf("checkpoint: %s model file has no float32 tensor %q", f.Kind, name)
	}
	if len(t.F32) != n {
		return nil, fmt.Errorf("checkpoint: tensor %q has %d values, want %d", name, len(t.F32), n)
	}
	return t.F32, nil
}

// F64 returns the float64 tensor name, checking that it has n elements.
func (f *File) F64(name string, n int) ([]float64, error) {
	t := f.find(name)
	if t == nil || t.F64 == nil {
		return nil, fmt.Errorf("checkpoint: %s model file has no float64 tensor %q", f.Kind, name)
	}
	if len(t.F64) != n {
		return nil, fmt.Errorf("checkpoint: tensor %q has %d values, want %d", name, len(t.F64), n)
	}
	return t.F64, nil
}

// Bytes returns the blob name.
func (f *File) Bytes(name string) ([]byte, error) {
	t := f.find(name)
	if t == nil || t.Bytes == nil {
		return nil, fmt.Errorf("checkpoint: %s model file has no blob %q", f.Kind, name)
	}
	return t.Bytes, nil
}

// AddState adds the binary state of v (a random stream, say) as the blob name.
func (f *File) AddState(name string, v encoding.BinaryMarshaler) error {
	b, err := v.MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint: state %q: %w", name, err)
	}
	f.AddBytes(name, b)
	return nil
}

// State restores v from the blob name written by AddState; the error names
// the blob when it is missing or v refuses its bytes.
func (f *File) State(name string, v encoding.BinaryUnmarshaler) error {
	b, err := f.Bytes(name)
	if err != nil {
		return err
	}
	if err := v.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("checkpoint: %s model file, state %q: %w", f.Kind, name, err)
	}
	return nil
}
