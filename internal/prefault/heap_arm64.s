//go:build linux

#include "textflag.h"

// func readPages(start uintptr, n int, stride uintptr) byte
TEXT ·readPages(SB), NOSPLIT, $0-25
	MOVD start+0(FP), R0
	MOVD n+8(FP), R1
	MOVD stride+16(FP), R2
	MOVD $0, R3
loop:
	CBZ  R1, done
	MOVBU (R0), R4
	ADD  R4, R3, R3
	ADD  R2, R0, R0
	SUB  $1, R1, R1
	B    loop
done:
	MOVB R3, ret+24(FP)
	RET
