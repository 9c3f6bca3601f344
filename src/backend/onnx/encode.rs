//! Low-level protobuf wire encoding, for streaming large `raw_data` fields
//! without building them in memory first.
//!
//! A protobuf message is a sequence of fields, and concatenating encodings of
//! disjoint fields of one message is a valid encoding of the message with all
//! of them. The writer uses this to emit the small parts with the generated
//! `onnx_protobuf` types and the weights by hand, in declaration order.

use std::io::{self, Write};

/// Wire type of length-delimited fields (bytes, strings, messages).
const LEN: u32 = 2;

/// Number of bytes of `value` as a varint.
pub fn varint_len(mut value: u64) -> usize {
    let mut len = 1;
    while value >= 0x80 {
        value >>= 7;
        len += 1;
    }
    len
}

/// Writes `value` as a varint.
pub fn write_varint(out: &mut impl Write, mut value: u64) -> io::Result<()> {
    let mut buf = [0u8; 10];
    let mut len = 0;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            buf[len] = byte;
            len += 1;
            break;
        }
        buf[len] = byte | 0x80;
        len += 1;
    }
    out.write_all(&buf[..len])
}

/// The key of length-delimited field `field`.
fn key(field: u32) -> u64 {
    u64::from((field << 3) | LEN)
}

/// Bytes taken by the key and length of a length-delimited field of `len`
/// bytes of payload.
pub fn len_field_overhead(field: u32, len: usize) -> usize {
    varint_len(key(field)) + varint_len(len as u64)
}

/// Writes the key and length of a length-delimited field; the caller writes
/// exactly `len` bytes of payload next.
pub fn write_len_field_header(out: &mut impl Write, field: u32, len: usize) -> io::Result<()> {
    write_varint(out, key(field))?;
    write_varint(out, len as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_spec() {
        for (value, bytes) in [
            (0u64, vec![0u8]),
            (1, vec![1]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u64::MAX, {
                let mut v = vec![0xff; 9];
                v.push(0x01);
                v
            }),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, value).unwrap();
            assert_eq!(out, bytes, "varint of {value}");
            assert_eq!(varint_len(value), bytes.len());
        }
    }

    #[test]
    fn field_header() {
        let mut out = Vec::new();
        write_len_field_header(&mut out, 9, 300).unwrap();
        assert_eq!(out, vec![74, 0xac, 0x02]);
        assert_eq!(len_field_overhead(9, 300), 3);
    }
}
