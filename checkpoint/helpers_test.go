package checkpoint

import (
	"hash/crc32"
	"runtime"
)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}
