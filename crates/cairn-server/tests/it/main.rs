//! Integration tests: the server over real HTTP on 127.0.0.1:0, in front of a fake upstream.

mod admin;
mod articles;
mod conversations;
mod dashboard;
mod durability;
mod errors;
mod feedback;
mod gateway;
mod hooks;
mod knowledge;
mod limits;
mod local;
mod local_grammar;
mod memory;
mod memory_eval;
mod orchestration;
mod orchestration_local;
mod support;
mod upstream;
mod usage;
mod web;
