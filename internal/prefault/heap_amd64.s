//go:build linux

#include "textflag.h"

// func readPages(start uintptr, n int, stride uintptr) byte
TEXT ·readPages(SB), NOSPLIT, $0-25
	MOVQ start+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ stride+16(FP), DX
	XORL AX, AX
loop:
	TESTQ CX, CX
	JZ   done
	ADDB (SI), AL
	ADDQ DX, SI
	DECQ CX
	JMP  loop
done:
	MOVB AL, ret+24(FP)
	RET
