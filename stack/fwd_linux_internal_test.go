//go:build linux

package stack

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSpinUntilUser(t *testing.T) {
	t.Run("block handed over while spinning", func(t *testing.T) {
		var status uint32 = unix.TP_STATUS_KERNEL
		go func() {
			time.Sleep(2 * time.Millisecond)
			atomic.StoreUint32(&status, unix.TP_STATUS_USER)
		}()
		if !spinUntilUser(&status, 2*time.Second) {
			t.Errorf("spinUntilUser = false, want true: the block was handed over after 2 ms")
		}
	})
	t.Run("no block within the spin time", func(t *testing.T) {
		var status uint32 = unix.TP_STATUS_KERNEL
		start := time.Now()
		if spinUntilUser(&status, time.Millisecond) {
			t.Errorf("spinUntilUser = true, want false: the block stayed with the kernel")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("spinUntilUser spun %v, want about 1 ms", d)
		}
	})
}
