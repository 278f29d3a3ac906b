//! The dashboard over HTTPS for the end-to-end tests: a user added with
//! `coso-hub user add --password-stdin`, and a signed-in session that
//! trusts only the CA `coso-hub web-ca` wrote.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::{Hub, bins};

/// The password [`Session::sign_in`] gives `user`.
pub fn password_of(user: &str) -> String {
    format!("mật khẩu của {user} 2026")
}

/// `coso-hub user add USER --role ROLE --password-stdin` on the hub's data dir.
pub fn add_user(hub: &Hub, user: &str, role: &str, password: &str) {
    let mut add = Command::new(&bins().hub)
        .args(["user", "add", user, "--role", role, "--password-stdin"])
        .arg("--data-dir")
        .arg(&hub.dir)
        .envs(hub.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn coso-hub user add");
    writeln!(add.stdin.take().expect("stdin"), "{password}").expect("write the password");
    assert!(
        add.wait().expect("wait for user add").success(),
        "coso-hub user add {user} failed"
    );
}

/// The dashboard as a signed-in user sees it.
pub struct Session {
    client: reqwest::blocking::Client,
    cookie: String,
    base: String,
}

impl Session {
    /// Adds `user` with `role` (password [`password_of`]) and signs in.
    pub fn sign_in(hub: &Hub, user: &str, role: &str) -> Session {
        let password = password_of(user);
        add_user(hub, user, role, &password);
        Session::open(hub, user, &password)
    }

    /// Signs in `user`, who already has `password`.
    pub fn open(hub: &Hub, user: &str, password: &str) -> Session {
        let ca_file = hub
            .dir
            .parent()
            .expect("parent")
            .join(format!("{user}-ca.crt"));
        hub.cmd(&["web-ca", "--out", ca_file.to_str().expect("utf-8 path")])
            .ok();
        let ca =
            reqwest::Certificate::from_pem(&std::fs::read(&ca_file).expect("ca")).expect("pem");
        coso_proto::transport::install_crypto();
        let client = reqwest::blocking::Client::builder()
            .tls_certs_merge([ca])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let base = format!("https://{}", hub.web);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", user)
            .append_pair("password", password)
            .finish();
        let r = client
            .post(format!("{base}/login"))
            .header("origin", &base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .expect("login");
        assert_eq!(r.status(), 303, "login as {user}");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-coso_session="))
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_string();
        Session {
            client,
            cookie,
            base,
        }
    }

    /// GET: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .expect("get");
        (r.status().as_u16(), r.text().expect("body"))
    }

    /// A page that must answer 200.
    pub fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}\n{body}");
        body
    }

    /// A form POST from the dashboard's own origin: the status and the body.
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .expect("post");
        (r.status().as_u16(), r.text().expect("body"))
    }

    /// A multipart upload of `bytes` as the form's `file`.
    pub fn upload(&self, path: &str, bytes: Vec<u8>) -> (u16, String) {
        let part = reqwest::blocking::multipart::Part::bytes(bytes).file_name("scan");
        let form = reqwest::blocking::multipart::Form::new().part("file", part);
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .multipart(form)
            .send()
            .expect("upload");
        (r.status().as_u16(), r.text().unwrap_or_default())
    }

    /// A download: the status, its content type and its bytes.
    pub fn download(&self, path: &str) -> (u16, String, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .expect("download");
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (r.status().as_u16(), kind, r.bytes().expect("body").to_vec())
    }
}
