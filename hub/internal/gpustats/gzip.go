package gpustats

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A gzip body is stitched from pieces deflated apart: each piece is a raw
// deflate stream ending on a sync flush (byte-aligned, not final), so pieces
// can follow one another; a final empty block ends the stream. The gzip
// trailer's CRC-32 is combined from the pieces' own.

// deflated is one piece of a stitched gzip body.
type deflated struct {
	data  []byte
	crc   uint32 // CRC-32 (IEEE) of the plain bytes
	size  int    // length of the plain bytes
	shift uint32 // x^(8·size) modulo the CRC polynomial, for crc32Combine
}

// newDeflated is the piece of plain whose deflated form is data.
func newDeflated(data, plain []byte) deflated {
	return deflated{data: data, crc: crc32.ChecksumIEEE(plain), size: len(plain), shift: x2nModP(uint64(len(plain)), 3)}
}

// writers keeps deflate writers between parts: a new writer's state is
// larger than a part. klauspost/compress's deflate at its fastest level
// writes standard deflate several times faster than compress/flate's
// (`go test -bench Deflate`), and a live fleet's reads deflate every
// machine that changed.
var writers = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, flate.BestSpeed)
	return zw
}}

func deflate(plain []byte) deflated {
	buf := bytes.NewBuffer(make([]byte, 0, len(plain)/5+64))
	zw := writers.Get().(*flate.Writer)
	zw.Reset(buf)
	_, _ = zw.Write(plain)
	_ = zw.Flush()
	zw.Reset(nil)
	writers.Put(zw)
	return newDeflated(buf.Bytes(), plain)
}

// gzipHeader: magic, deflate, no flags, no time, no extra flags, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// finalBlock ends a deflate stream: an empty final stored block.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// gzipTrailer is the CRC-32 and the length (mod 2^32) of the plain body.
func gzipTrailer(crc uint32, size int) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, crc)
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	return b
}

// crc32Combine returns the CRC-32 (IEEE) of a followed by b, from crc1 of a,
// crc2 of b and shift2, x^(8·len(b)) modulo the polynomial (zlib's
// crc32_combine: crc1 times shift2, plus crc2). A part keeps its shift, so
// stitching a body costs one multiplication per part.
func crc32Combine(crc1, crc2, shift2 uint32) uint32 {
	return multModP(shift2, crc1) ^ crc2
}

const poly = 0xedb88320 // IEEE, reflected

// x2nTable[n] is x^(2^n) modulo the polynomial.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for n := 1; n < 32; n++ {
		p = multModP(p, p)
		t[n] = p
	}
	return t
}()

// multModP multiplies a and b modulo the polynomial (reflected bit order).
func multModP(a, b uint32) uint32 {
	m, p := uint32(1)<<31, uint32(0)
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
}

// x2nModP is x^(n·2^k) modulo the polynomial.
func x2nModP(n uint64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for ; n != 0; n >>= 1 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		k++
	}
	return p
}
