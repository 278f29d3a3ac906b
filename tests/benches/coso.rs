//! `cargo bench -p coso-tests`: coso's benchmark (ingest, fan-in, compile,
//! footprint, growth). Everything lives in `coso_tests::bench`; see
//! BENCHMARKS.md for the knobs and the latest results.

fn main() {
    coso_tests::bench::main();
}
