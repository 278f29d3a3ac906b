//! Compiles `coso/v1/*.proto` with protox (pure Rust, so no `protoc` is needed)
//! and generates the tonic client and server code.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["coso/v1/sync.proto", "coso/v1/admin.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let mut bytes = Vec::new();
    prost::Message::encode(&fds, &mut bytes)?;
    std::fs::write(out.join("coso_descriptor.bin"), &bytes)?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
