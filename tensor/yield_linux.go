package tensor

import "syscall"

// osYield gives the processor to another runnable thread, of any program, if the
// kernel has one waiting for it; it returns at once otherwise.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
