//! A minimal GGUF (v3) writer: metadata key-values and F32 or F16 tensors.
//!
//! Written by hand because the one thing needed here, turning a safetensors BERT into a file
//! llama.cpp loads, needs only the container format (a header, typed key-values, tensor
//! descriptors, aligned data); the crates that write GGUF come inside whole ML frameworks.

use std::io::{self, Write};

const MAGIC: &[u8; 4] = b"GGUF";
const VERSION: u32 = 3;
const ALIGNMENT: u64 = 32;
const GGML_TYPE_F32: u32 = 0;
const GGML_TYPE_F16: u32 = 1;

pub enum Value {
    U32(u32),
    F32(f32),
    Bool(bool),
    Str(String),
    StrArray(Vec<String>),
    I32Array(Vec<i32>),
}

impl Value {
    fn type_id(&self) -> u32 {
        match self {
            Value::U32(_) => 4,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::Str(_) => 8,
            Value::StrArray(_) | Value::I32Array(_) => 9,
        }
    }
}

pub struct Tensor {
    pub name: String,
    /// In numpy / safetensors order (outermost first); written reversed, as ggml counts.
    pub shape: Vec<u64>,
    pub data: TensorData,
}

pub enum TensorData {
    F32(Vec<f32>),
    /// IEEE half floats, as their bits.
    F16(Vec<u16>),
}

impl TensorData {
    fn ggml_type(&self) -> u32 {
        match self {
            TensorData::F32(_) => GGML_TYPE_F32,
            TensorData::F16(_) => GGML_TYPE_F16,
        }
    }

    fn byte_len(&self) -> u64 {
        match self {
            TensorData::F32(v) => v.len() as u64 * 4,
            TensorData::F16(v) => v.len() as u64 * 2,
        }
    }

    fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

fn write_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    w.write_all(&(s.len() as u64).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn write_value(w: &mut impl Write, value: &Value) -> io::Result<()> {
    match value {
        Value::U32(v) => w.write_all(&v.to_le_bytes()),
        Value::F32(v) => w.write_all(&v.to_le_bytes()),
        Value::Bool(v) => w.write_all(&[u8::from(*v)]),
        Value::Str(s) => write_str(w, s),
        Value::StrArray(items) => {
            w.write_all(&8u32.to_le_bytes())?;
            w.write_all(&(items.len() as u64).to_le_bytes())?;
            items.iter().try_for_each(|s| write_str(w, s))
        }
        Value::I32Array(items) => {
            w.write_all(&5u32.to_le_bytes())?;
            w.write_all(&(items.len() as u64).to_le_bytes())?;
            items.iter().try_for_each(|v| w.write_all(&v.to_le_bytes()))
        }
    }
}

fn padding(at: u64) -> u64 {
    (ALIGNMENT - at % ALIGNMENT) % ALIGNMENT
}

/// Writes a whole GGUF file.
pub fn write(w: &mut impl Write, metadata: &[(&str, Value)], tensors: &[Tensor]) -> io::Result<()> {
    let mut header = Vec::new();
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    header.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        write_str(&mut header, key)?;
        header.extend_from_slice(&value.type_id().to_le_bytes());
        write_value(&mut header, value)?;
    }
    let mut offset = 0u64;
    for t in tensors {
        write_str(&mut header, &t.name)?;
        header.extend_from_slice(&(t.shape.len() as u32).to_le_bytes());
        for dim in t.shape.iter().rev() {
            header.extend_from_slice(&dim.to_le_bytes());
        }
        header.extend_from_slice(&t.data.ggml_type().to_le_bytes());
        header.extend_from_slice(&offset.to_le_bytes());
        let bytes = t.data.byte_len();
        offset += bytes + padding(bytes);
    }
    let pad = padding(header.len() as u64);
    header.resize(header.len() + pad as usize, 0);
    w.write_all(&header)?;
    for t in tensors {
        let bytes = t.data.to_le_bytes();
        let pad = padding(bytes.len() as u64);
        w.write_all(&bytes)?;
        w.write_all(&vec![0u8; pad as usize])?;
    }
    Ok(())
}
