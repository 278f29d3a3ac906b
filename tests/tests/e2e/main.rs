//! End-to-end tests.
mod agent;
mod hub;
mod report;
mod sync;
mod upstream;
