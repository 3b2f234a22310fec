//! The calling convention shared by every export: status codes, the error
//! buffer, pointer checks and panic containment.

mod common;

use std::ptr::{null, null_mut};

use common::{assert_error, call};
use open_native::*;

#[test]
fn abi_version_is_one() {
    assert_eq!(on_abi_version(), 1);
    assert_eq!(on_abi_version(), ABI_VERSION);
}

#[test]
fn noops_succeed() {
    on_noop();
    assert_eq!(call(|err, cap| unsafe { on_noop_status(err, cap) }), (OK, String::new()));
}

fn debug_panic(message: &str, err: *mut u8, err_cap: usize) -> i32 {
    unsafe { on_debug_panic(message.as_ptr(), message.len(), err, err_cap) }
}

fn sum(x: &[f64]) -> f64 {
    let mut out = f64::NAN;
    let (status, message) = call(|err, cap| unsafe { on_sum_f64(x.as_ptr(), x.len(), &mut out, err, cap) });
    assert_eq!(status, OK, "{message}");
    out
}

#[test]
fn a_panic_returns_its_message_and_the_library_keeps_working() {
    let (status, message) = call(|err, cap| debug_panic("kernel exploded: ünïcode", err, cap));
    assert_eq!(status, PANIC);
    assert_eq!(message, "kernel exploded: ünïcode");

    assert_eq!(sum(&[1.0, 2.0]), 3.0);
    let again = call(|err, cap| debug_panic("again", err, cap));
    assert_eq!(again, (PANIC, "again".to_owned()));
}

#[test]
fn panics_are_contained_on_many_threads_at_once() {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    let expected = format!("thread {t} call {i}");
                    assert_eq!(call(|err, cap| debug_panic(&expected, err, cap)), (PANIC, expected.clone()));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic escapes");
    }
}

#[test]
fn the_message_is_cut_at_a_char_boundary_and_nul_terminated() {
    // "é" is two bytes, so 3 usable bytes hold only one of them.
    let mut err = [0xFFu8; 4];
    assert_eq!(debug_panic("ééé", err.as_mut_ptr(), err.len()), PANIC);
    assert_eq!(err, [0xC3, 0xA9, 0, 0xFF]);

    let mut err = [0xFFu8; 7];
    assert_eq!(debug_panic("ééé", err.as_mut_ptr(), err.len()), PANIC);
    assert_eq!(&err, "ééé\0".as_bytes());

    let mut err = [0xFFu8; 2];
    assert_eq!(debug_panic("€uro", err.as_mut_ptr(), err.len()), PANIC);
    assert_eq!(err, [0, 0xFF]);
}

#[test]
fn no_message_is_written_without_room() {
    let mut err = [0xFFu8; 4];
    assert_eq!(debug_panic("boom", err.as_mut_ptr(), 0), PANIC);
    assert_eq!(err, [0xFF; 4]);
    assert_eq!(debug_panic("boom", null_mut(), 100), PANIC);
}

#[test]
fn a_null_array_is_rejected_by_name_unless_empty() {
    let mut out = 0.0;
    let result = call(|err, cap| unsafe { on_sum_f64(null(), 3, &mut out, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "x is null but its length is 3");

    out = f64::NAN;
    let result = call(|err, cap| unsafe { on_sum_f64(null(), 0, &mut out, err, cap) });
    assert_eq!(result.0, OK);
    assert_eq!(out, 0.0);
}

#[test]
fn a_null_output_is_rejected_by_name() {
    let x = [1.0, 2.0];
    let result = call(|err, cap| unsafe { on_sum_f64(x.as_ptr(), 2, null_mut(), err, cap) });
    assert_error(result, INVALID_ARGUMENT, "out is null");

    let mut mean = 0.0;
    let result = call(|err, cap| unsafe { on_mean_var_f64(x.as_ptr(), 2, &mut mean, null_mut(), 0, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "out_var is null");
}

#[test]
fn a_misaligned_pointer_is_rejected() {
    let words = [0u64; 3];
    let misaligned = unsafe { words.as_ptr().cast::<u8>().add(1) }.cast::<f64>();
    let mut out = 0.0;
    let result = call(|err, cap| unsafe { on_sum_f64(misaligned, 2, &mut out, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "x is not aligned to 8 bytes");
}

#[test]
fn a_length_beyond_the_address_space_is_rejected_before_any_read() {
    let x = [1.0];
    let mut out = 0.0;
    let result = call(|err, cap| unsafe { on_sum_f64(x.as_ptr(), usize::MAX / 4, &mut out, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "exceed the address space");
}

#[test]
fn an_output_overlapping_an_input_is_rejected() {
    let mut buf = [1.0f64; 4];
    let p = buf.as_mut_ptr();
    let result = call(|err, cap| unsafe { on_matmul_f64(p, p.add(3), p, 1, 1, 1, err, cap) });
    assert_error(result, INVALID_ARGUMENT, "c overlaps a");
}

#[test]
fn outputs_pointing_at_the_same_place_are_written_in_order() {
    let x = [3.0, 1.0, 2.0];
    let mut both = 0.0;
    let result = call(|err, cap| unsafe { on_min_max_f64(x.as_ptr(), 3, &mut both, &mut both, err, cap) });
    assert_eq!(result.0, OK);
    assert_eq!(both, 3.0);
}

#[test]
fn invalid_utf8_in_the_panic_message_is_an_invalid_argument() {
    let bytes = b"ok\xFF";
    let result = call(|err, cap| unsafe { on_debug_panic(bytes.as_ptr(), bytes.len(), err, cap) });
    assert_error(result, INVALID_ARGUMENT, "msg is not valid UTF-8 at byte offset 2");
}
