package kernel

import "testing"

func TestParseString(t *testing.T) {
	for _, isa := range []ISA{Generic, AVX2, AVX512} {
		got, ok := Parse(isa.String())
		if !ok || got != isa {
			t.Errorf("Parse(%q) = %v, %v; want %v, true", isa.String(), got, ok, isa)
		}
	}
	if _, ok := Parse("sse"); ok {
		t.Error(`Parse("sse") accepted an unknown name`)
	}
}

// TestChoose: LATENT_KERNEL picks a supported path, falls back downwards when the
// CPU cannot run the one asked for, and is ignored when unknown or empty.
func TestChoose(t *testing.T) {
	if !Supported(Generic) {
		t.Fatal("generic must always be supported")
	}
	if Supported(AVX512) && !Supported(AVX2) {
		t.Fatal("AVX512 without AVX2: the fallback chain would skip a level")
	}
	if got := choose(""); got != Best() {
		t.Errorf(`choose("") = %v, want Best() = %v`, got, Best())
	}
	if got := choose("nonsense"); got != Best() {
		t.Errorf(`choose("nonsense") = %v, want %v`, got, Best())
	}
	if got := choose("generic"); got != Generic {
		t.Errorf(`choose("generic") = %v`, got)
	}
	wantAVX2 := Generic
	if Supported(AVX2) {
		wantAVX2 = AVX2
	}
	if got := choose("avx2"); got != wantAVX2 {
		t.Errorf(`choose("avx2") = %v, want %v`, got, wantAVX2)
	}
	wantAVX512 := wantAVX2
	if Supported(AVX512) {
		wantAVX512 = AVX512
	}
	if got := choose("avx512"); got != wantAVX512 {
		t.Errorf(`choose("avx512") = %v, want %v`, got, wantAVX512)
	}
	if !Supported(Default) {
		t.Errorf("Default = %v is not supported", Default)
	}
	t.Logf("best kernel on this machine: %v; default: %v", Best(), Default)
}

// TestTablesComplete: every tile height has a kernel when the ISA is supported.
func TestTablesComplete(t *testing.T) {
	if Supported(AVX512) {
		for mr := 1; mr < len(SgemmAVX512); mr++ {
			if SgemmAVX512[mr] == nil || DgemmAVX512[mr] == nil {
				t.Errorf("AVX-512 kernel for mr=%d missing", mr)
			}
		}
	}
	if Supported(AVX2) {
		for mr := 1; mr < len(SgemmAVX2); mr++ {
			if SgemmAVX2[mr] == nil || DgemmAVX2[mr] == nil {
				t.Errorf("AVX2 kernel for mr=%d missing", mr)
			}
		}
	}
}
