package privacy

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"math/bits"
)

// Source is a source of independent, uniformly distributed 64-bit words.
// *math/rand/v2.PCG satisfies it, which is how tests make draws reproducible;
// releases must use [CryptoSource].
type Source interface {
	Uint64() uint64
}

// CryptoSource returns the operating system's cryptographically secure
// generator (crypto/rand). Every sampler and [Release] use it when given a
// nil Source. It is safe for concurrent use.
func CryptoSource() Source { return cryptoSource{} }

type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	// Since Go 1.24 crypto/rand.Read never returns an error: if the kernel
	// generator fails, the program crashes rather than continue with weak noise.
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func orCrypto(src Source) Source {
	if src == nil {
		return cryptoSource{}
	}
	return src
}

// uniformUint64 returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method (the one math/rand/v2 uses): exact, no modulo bias.
func uniformUint64(src Source, n uint64) uint64 {
	if n&(n-1) == 0 {
		return src.Uint64() & (n - 1)
	}
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// uniformBig returns a uniform integer in [0, n), n > 0, by drawing
// n.BitLen() random bits and rejecting values ≥ n (acceptance ≥ 1/2).
func uniformBig(src Source, n *big.Int) *big.Int {
	if n.IsUint64() {
		return new(big.Int).SetUint64(uniformUint64(src, n.Uint64()))
	}
	nbits := n.BitLen()
	buf := make([]byte, (nbits+7)/8)
	mask := byte(0xff >> uint(len(buf)*8-nbits))
	var word [8]byte
	r := new(big.Int)
	for {
		for i := 0; i < len(buf); i += 8 {
			binary.BigEndian.PutUint64(word[:], src.Uint64())
			copy(buf[i:], word[:])
		}
		buf[0] &= mask
		if r.SetBytes(buf).Cmp(n) < 0 {
			return r
		}
	}
}
