//! End-to-end tests.
mod agent;
mod dashboard;
mod hub;
mod report;
mod sync;
mod upstream;
