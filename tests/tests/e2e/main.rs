//! End-to-end tests.
mod adversarial;
mod agent;
mod hub;
mod report;
mod sync;
mod upstream;
