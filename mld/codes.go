package mld

import "time"

// Maximum Response Code, RFC 3810 §5.1.3:
//
//	If Maximum Response Code < 32768,
//	   Maximum Response Delay = Maximum Response Code
//	If Maximum Response Code >=32768, Maximum Response Code represents a
//	floating-point value as follows:
//	    0 1 2 3 4 5 6 7 8 9 A B C D E F
//	   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	   |1| exp |          mant         |
//	   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	Maximum Response Delay = (mant | 0x1000) << (exp+3)
//
// in milliseconds.
const maxMaxRespDelayMs = 0x1fff << (7 + 3)

// DecodeMaxRespCode returns the Maximum Response Delay a v2 Maximum Response
// Code stands for (RFC 3810 §5.1.3).
func DecodeMaxRespCode(code uint16) time.Duration {
	if code < 0x8000 {
		return time.Duration(code) * time.Millisecond
	}
	exp := (code >> 12) & 7
	mant := uint64(code & 0x0fff)
	return time.Duration((mant|0x1000)<<(exp+3)) * time.Millisecond
}

// EncodeMaxRespCode returns the Maximum Response Code for delay d, rounded down
// to the nearest representable value and clamped to the largest (RFC 3810
// §5.1.3).
func EncodeMaxRespCode(d time.Duration) uint16 {
	ms := d.Milliseconds()
	if ms <= 0 {
		return 0
	}
	if ms < 0x8000 {
		return uint16(ms)
	}
	if ms > maxMaxRespDelayMs {
		ms = maxMaxRespDelayMs
	}
	for exp := uint(0); exp < 8; exp++ {
		if v := uint64(ms) >> (exp + 3); v < 0x2000 {
			return 0x8000 | uint16(exp)<<12 | uint16(v&0x0fff)
		}
	}
	return 0xffff
}

// QQIC, RFC 3810 §5.1.9:
//
//	If QQIC < 128, QQI = QQIC
//	If QQIC >= 128, QQIC represents a floating-point value as follows:
//	    0 1 2 3 4 5 6 7
//	   +-+-+-+-+-+-+-+-+
//	   |1| exp | mant  |
//	   +-+-+-+-+-+-+-+-+
//	QQI = (mant | 0x10) << (exp + 3)
//
// in seconds.
const maxQQISeconds = 0x1f << (7 + 3)

// DecodeQQIC returns the Querier's Query Interval a QQIC stands for.
func DecodeQQIC(code uint8) time.Duration {
	if code < 0x80 {
		return time.Duration(code) * time.Second
	}
	exp := (code >> 4) & 7
	mant := uint64(code & 0x0f)
	return time.Duration((mant|0x10)<<(exp+3)) * time.Second
}

// EncodeQQIC returns the QQIC for query interval d, rounded down to whole
// representable seconds and clamped to the largest (RFC 3810 §5.1.9).
func EncodeQQIC(d time.Duration) uint8 {
	s := int64(d / time.Second)
	if s <= 0 {
		return 0
	}
	if s < 0x80 {
		return uint8(s)
	}
	if s > maxQQISeconds {
		s = maxQQISeconds
	}
	for exp := uint(0); exp < 8; exp++ {
		if v := uint64(s) >> (exp + 3); v < 0x20 {
			return 0x80 | uint8(exp)<<4 | uint8(v&0x0f)
		}
	}
	return 0xff
}
