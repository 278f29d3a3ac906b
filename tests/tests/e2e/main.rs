//! End-to-end tests.
mod agent;
mod hub;
mod integrity;
mod report;
mod sync;
mod upstream;
