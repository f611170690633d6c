//! QuickJS's memory limit, enforced by the sandbox's own allocator so that it knows when
//! code hit it. QuickJS has its own limit, but when it is reached while QuickJS is making
//! the "out of memory" error it throws `null`, which cannot be told from `throw null`.

use std::{cell::Cell, rc::Rc};

use rquickjs::allocator::{Allocator, RustAllocator};

/// Refuses an allocation that would take the total past the limit, and remembers that it did.
///
/// The limit is shared so it can be set after the runtime and context exist: QuickJS does not
/// always survive running out of memory while creating them (it crashed in testing), whereas
/// running out while code runs is an ordinary, recoverable error.
pub(crate) struct LimitedAllocator {
    used: usize,
    limit: Rc<Cell<usize>>,
    refused: Rc<Cell<bool>>,
}

impl LimitedAllocator {
    pub(crate) fn new(limit: Rc<Cell<usize>>, refused: Rc<Cell<bool>>) -> LimitedAllocator {
        LimitedAllocator {
            used: 0,
            limit,
            refused,
        }
    }

    fn admit(&mut self, size: usize) -> bool {
        if self.used.saturating_add(size) > self.limit.get() {
            self.refused.set(true);
            return false;
        }
        true
    }
}

// SAFETY: every call is passed to RustAllocator, which upholds the trait's contract; this
// type only counts sizes and may return null (allowed) before delegating.
unsafe impl Allocator for LimitedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admit(size) {
            return std::ptr::null_mut();
        }
        let ptr = RustAllocator.alloc(size);
        if !ptr.is_null() {
            // SAFETY: ptr was just allocated by RustAllocator.
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !self.admit(count.saturating_mul(size)) {
            return std::ptr::null_mut();
        }
        let ptr = RustAllocator.calloc(count, size);
        if !ptr.is_null() {
            // SAFETY: ptr was just allocated by RustAllocator.
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: the caller passes a pointer from this allocator, i.e. from RustAllocator.
        unsafe {
            self.used -= RustAllocator::usable_size(ptr);
            RustAllocator.dealloc(ptr);
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a pointer from this allocator, i.e. from RustAllocator.
        let old_size = unsafe { RustAllocator::usable_size(ptr) };
        if new_size > old_size && !self.admit(new_size - old_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure the old allocation is left as it was.
        let new_ptr = unsafe { RustAllocator.realloc(ptr, new_size) };
        if !new_ptr.is_null() {
            // SAFETY: new_ptr was just allocated by RustAllocator.
            self.used = self.used - old_size + unsafe { RustAllocator::usable_size(new_ptr) };
        }
        new_ptr
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller passes a pointer from this allocator, i.e. from RustAllocator.
        unsafe { RustAllocator::usable_size(ptr) }
    }
}
