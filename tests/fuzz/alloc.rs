//! A counting global allocator: a single allocation above [`LIMIT`] bytes, or
//! live memory above it, saves the input being run and aborts the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The largest single allocation, and the most live memory, an input may use.
pub const LIMIT: usize = 1 << 30;

/// Bytes currently allocated.
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Set while an over-limit allocation is being reported: allocations pass
/// through unchecked so that the report itself can allocate.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// [`System`], counting live bytes and checking every request against [`LIMIT`].
pub struct Counting;

impl Counting {
    /// Records `size` more bytes and reports when a limit is crossed.
    fn grow(&self, size: usize) {
        let live = LIVE.fetch_add(size as isize, Ordering::Relaxed) + size as isize;
        if (size > LIMIT || live > LIMIT as isize) && !REPORTING.swap(true, Ordering::SeqCst) {
            let what = if size > LIMIT {
                format!("a single allocation of {size} bytes")
            } else {
                format!("{live} live bytes after an allocation of {size}")
            };
            crate::engine::report_fatal("alloc", &format!("{what} (limit {LIMIT})"));
            std::process::abort();
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.grow(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.grow(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            self.grow(new_size - layout.size());
        } else {
            LIVE.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}
