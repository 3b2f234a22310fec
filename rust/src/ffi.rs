//! The boundary between C callers and the safe kernels: panics are caught,
//! errors become a status plus a message in the caller's buffer, and raw
//! pointers become slices only after they have been checked.

use std::any::Any;
use std::mem::size_of;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::error::Error;
use crate::{OK, PANIC};

/// Runs the body of an export that reports a status: `OK`, or the error's
/// status with its message copied into `err`, or `PANIC` with the panic's
/// message.
///
/// `AssertUnwindSafe` is sound because nothing the body touched outlives a
/// panic except caller-owned output buffers, whose contents are documented
/// as unspecified after any non-zero status.
///
/// # Safety
/// If `err` is non-null it must be valid for writes of `err_cap` bytes.
pub unsafe fn call(err: *mut u8, err_cap: usize, body: impl FnOnce() -> Result<(), Error>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => OK,
        Ok(Err(error)) => {
            write_message(err, err_cap, error.message());
            error.status()
        }
        Err(payload) => {
            write_message(err, err_cap, panic_message(&*payload));
            PANIC
        }
    }
}

/// Runs the body of an export that has no error channel, answering
/// `on_panic` instead of letting a panic cross the boundary.
pub fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// The text given to `panic!`, which is what a caller needs to report it.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "panic with a non-string payload"
    }
}

/// Copies `message` into `err` NUL-terminated, cut at a char boundary so the
/// caller always receives valid UTF-8.
///
/// # Safety
/// As for [`call`].
unsafe fn write_message(err: *mut u8, err_cap: usize, message: &str) {
    if err.is_null() || err_cap == 0 {
        return;
    }
    let mut len = message.len().min(err_cap - 1);
    while !message.is_char_boundary(len) {
        len -= 1;
    }
    std::ptr::copy_nonoverlapping(message.as_ptr(), err, len);
    err.add(len).write(0);
}

/// Borrows the caller's `len` elements at `ptr` as an input slice.
///
/// A null `ptr` is accepted with `len == 0`, so C callers may pass NULL for
/// an empty array.
///
/// # Safety
/// If `len > 0`, `ptr` must be valid for reads of `len` elements and not be
/// written during the call.
pub unsafe fn input<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], Error> {
    Ok(match checked(ptr.cast_mut(), len, name)? {
        Some(ptr) => std::slice::from_raw_parts(ptr.as_ptr(), len),
        None => &[],
    })
}

/// Borrows the caller's `len` elements at `ptr` as the output slice, after
/// checking that it overlaps none of the named `inputs`: an aliased output
/// would be undefined behaviour here and a silently wrong result in C.
///
/// # Safety
/// If `len > 0`, `ptr` must be valid for reads and writes of `len` elements
/// and not be accessed by anyone else during the call.
pub unsafe fn output<'a, T>(
    ptr: *mut T,
    len: usize,
    name: &str,
    inputs: &[(&str, Range<usize>)],
) -> Result<&'a mut [T], Error> {
    let Some(ptr) = checked(ptr, len, name)? else {
        return Ok(&mut []);
    };
    let start = ptr.as_ptr() as usize;
    let bytes = start..start + len * size_of::<T>();
    if let Some((other, _)) = inputs.iter().find(|(_, input)| overlap(&bytes, input)) {
        return Err(Error::InvalidArgument(format!("{name} overlaps {other}")));
    }
    Ok(std::slice::from_raw_parts_mut(ptr.as_ptr(), len))
}

/// The address range of `slice`, to pass as one of [`output`]'s `inputs`.
pub fn span<T>(slice: &[T]) -> Range<usize> {
    let start = slice.as_ptr() as usize;
    start..start + size_of_val(slice)
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    !a.is_empty() && !b.is_empty() && a.start < b.end && b.start < a.end
}

/// The checks `slice::from_raw_parts` relies on: `None` for an empty array,
/// else a non-null, aligned pointer to at most `isize::MAX` bytes.
fn checked<T>(ptr: *mut T, len: usize, name: &str) -> Result<Option<NonNull<T>>, Error> {
    if len == 0 {
        return Ok(None);
    }
    let Some(ptr) = NonNull::new(ptr) else {
        return Err(Error::InvalidArgument(format!("{name} is null but its length is {len}")));
    };
    check_aligned(ptr, name)?;
    if len.checked_mul(size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(Error::InvalidArgument(format!("{name}: {len} elements exceed the address space")));
    }
    Ok(Some(ptr))
}

fn check_aligned<T>(ptr: NonNull<T>, name: &str) -> Result<(), Error> {
    if ptr.as_ptr().is_aligned() {
        Ok(())
    } else {
        let align = std::mem::align_of::<T>();
        Err(Error::InvalidArgument(format!("{name} is not aligned to {align} bytes")))
    }
}

/// A checked pointer to one caller-owned value, written once the result is
/// known.
///
/// Writing through the pointer instead of holding a `&mut` keeps it
/// well-defined when a caller points two outputs at the same place: the
/// last write wins.
pub struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// # Safety
    /// If non-null, `ptr` must be valid for a write of one `T` until the
    /// export returns.
    pub unsafe fn new(ptr: *mut T, name: &str) -> Result<Self, Error> {
        let ptr = NonNull::new(ptr).ok_or_else(|| Error::InvalidArgument(format!("{name} is null")))?;
        check_aligned(ptr, name)?;
        Ok(Out(ptr))
    }

    pub fn write(self, value: T) {
        // SAFETY: `new` was promised a pointer valid for this write.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Reports a length through `out_len`: the bytes written on success, or the
/// size that suffices when the output buffer was too small.
pub fn report_len(out_len: Out<usize>, result: Result<usize, Error>) -> Result<(), Error> {
    match result {
        Ok(len) => {
            out_len.write(len);
            Ok(())
        }
        Err(error) => {
            if let Error::BufferTooSmall { needed, .. } = error {
                out_len.write(needed);
            }
            Err(error)
        }
    }
}

/// Views `bytes` as UTF-8, or names the argument and the offset of the
/// first invalid byte.
pub fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes)
        .map_err(|e| Error::InvalidArgument(format!("{name} is not valid UTF-8 at byte offset {}", e.valid_up_to())))
}
