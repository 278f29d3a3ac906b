//! `POST /periods/{P}/import`: values from an uploaded spreadsheet, through
//! `value import`'s own checks.

use axum::body::Bytes;
use axum::extract::{Extension, Multipart, Path, State};
use axum::response::Response;

use super::period::{Refused, refused_page};
use super::{Shared, ctx, failure, flash_ok};
use crate::commands::values;
use crate::error::AgentError;
use crate::messages::input_message;
use crate::output::Render;
use crate::ui::security::{self, Session, see_other};
use crate::ui::views::{self, Flash};

/// A file name safe to write in our own temporary directory.
fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(80)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "import.csv".into()
    } else {
        clean
    }
}

pub async fn period_import(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(code): Path<String>,
    mut mp: Multipart,
) -> Response {
    let lang = app.cfg.lang;
    let mut upload: Option<(String, Bytes)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = safe_name(field.file_name().unwrap_or(""));
                match field.bytes().await {
                    Ok(b) => upload = Some((name, b)),
                    Err(e) => {
                        return failure(
                            &app,
                            &sess,
                            &AgentError::Output(std::io::Error::other(e.to_string())),
                        );
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                return failure(
                    &app,
                    &sess,
                    &AgentError::Output(std::io::Error::other(e.to_string())),
                );
            }
        }
    }
    let Some((name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        app.auth.set_flash(
            &sess,
            Flash {
                ok: false,
                text: lang
                    .pick("Chưa chọn tệp nào để nhập.", "No file was chosen.")
                    .into(),
            },
        );
        return see_other(&format!("/periods/{code}"));
    };
    // The CLI's import reads a path: the upload goes to a private temporary
    // directory under its own name (so messages name the officer's file).
    let dir = std::env::temp_dir().join(format!("coso-ui-{}", security::new_secret()));
    let path = dir.join(&name);
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &bytes));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return failure(&app, &sess, &AgentError::Output(e));
    }
    let _op = app.op().await;
    let result = async {
        let store = app.open_store()?;
        let c = ctx(&app, store);
        let r = values::import(&c, &code, &path).await;
        Ok::<_, AgentError>((r, c.store))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let (r, store) = tryp!(app, sess, result);
    let prefix = format!("{}", dir.join("").display());
    match r {
        Ok(outcome) => {
            drop(store);
            flash_ok(&app, &sess, &outcome.text(lang).replace(&prefix, ""));
            app.sync.nudge();
            see_other(&format!("/periods/{code}"))
        }
        Err(AgentError::Input(e)) => {
            let message = input_message(&e, lang).replace(&prefix, "");
            let c = ctx(&app, store);
            let other = vec![views::Problem {
                anchor: Some("file".into()),
                message: message.lines().next().unwrap_or_default().to_string(),
            }];
            refused_page(
                &app,
                &sess,
                &c,
                &code,
                Refused {
                    other,
                    import_error: Some(message),
                    ..Refused::default()
                },
            )
        }
        Err(e) => failure(&app, &sess, &e),
    }
}
