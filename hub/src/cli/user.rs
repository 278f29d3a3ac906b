//! `coso-hub user add|list|remove|passwd|unlock`: the dashboard's accounts. A user
//! added without `--password-stdin` gets a one-time password, printed as the
//! last line, that must be changed at the first login.

use std::io::{BufRead, Write};

use clap::Subcommand;
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a dashboard user; the last line printed is a one-time password
    /// unless --password-stdin gives the password.
    ///
    /// Example: coso-hub user add lan --role reviewer
    Add {
        /// 1-64 letters, digits, '.', '_' or '-'.
        name: String,
        /// viewer (reads and downloads), reviewer (also reviews and writes the
        /// ward's text) or admin (also manages units, periods, users, upstream).
        #[arg(long)]
        role: String,
        /// Read the password (10 characters or more) from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users.
    List,
    /// Remove a user (and end their sessions). The last admin stays.
    Remove { name: String },
    /// Set a new password and end the user's sessions; without
    /// --password-stdin the last line is a new one-time password.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Let a user sign in again at once: forget every wrong password tried
    /// for the name, from any address.
    ///
    /// Example: coso-hub user unlock lan
    Unlock { name: String },
}

/// The first line of standard input, without its line end.
fn read_password(ctx: &Ctx) -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::io(std::path::Path::new(
            ctx.t("đầu vào chuẩn", "standard input"),
        )))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn user_json(u: &pb::UserInfo) -> serde_json::Value {
    json!({
        "name": u.name,
        "role": u.role,
        "must_change_password": u.must_change_password,
        "created_at": u.created_at,
        "sessions": u.sessions,
    })
}

fn print_password(
    ctx: &Ctx,
    out: &mut dyn Write,
    r: &pb::UserPasswordResponse,
) -> Result<(), CliError> {
    let user = r.user.clone().unwrap_or_default();
    if ctx.json {
        let mut v = user_json(&user);
        v["one_time_password"] = if r.one_time_password.is_empty() {
            serde_json::Value::Null
        } else {
            json!(r.one_time_password)
        };
        w!(out, "{v}");
        return Ok(());
    }
    if r.one_time_password.is_empty() {
        w!(
            out,
            "{}",
            match ctx.lang {
                Lang::Vi => format!("Đã lưu mật khẩu của {} ({}).", user.name, user.role),
                Lang::En => format!("Saved the password of {} ({}).", user.name, user.role),
            }
        );
    } else {
        w!(
            out,
            "{}",
            match ctx.lang {
                Lang::Vi => format!(
                    "Mật khẩu dùng một lần của {} ({}); người dùng phải đổi ở lần đăng nhập đầu:",
                    user.name, user.role
                ),
                Lang::En => format!(
                    "One-time password of {} ({}); it must be changed at the first sign-in:",
                    user.name, user.role
                ),
            }
        );
        w!(out, "{}", r.one_time_password);
    }
    Ok(())
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let password = if password_stdin {
                read_password(ctx)?
            } else {
                String::new()
            };
            let r = ctx
                .admin()?
                .add_user(pb::AddUserRequest {
                    name,
                    role,
                    password,
                    password_given: password_stdin,
                })
                .await?
                .into_inner();
            print_password(ctx, out, &r)
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                read_password(ctx)?
            } else {
                String::new()
            };
            let r = ctx
                .admin()?
                .set_user_password(pb::SetUserPasswordRequest {
                    name,
                    password,
                    password_given: password_stdin,
                })
                .await?
                .into_inner();
            print_password(ctx, out, &r)
        }
        UserCommand::Remove { name } => {
            let r = ctx
                .admin()?
                .remove_user(pb::UserRef { name })
                .await?
                .into_inner();
            let u = r.user.unwrap_or_default();
            if ctx.json {
                w!(out, "{}", user_json(&u));
            } else {
                w!(
                    out,
                    "{}",
                    match ctx.lang {
                        Lang::Vi => format!("Đã xóa người dùng {}.", u.name),
                        Lang::En => format!("Removed user {}.", u.name),
                    }
                );
            }
            Ok(())
        }
        UserCommand::Unlock { name } => {
            let r = ctx
                .admin()?
                .unlock_user(pb::UserRef { name })
                .await?
                .into_inner();
            if ctx.json {
                w!(
                    out,
                    "{}",
                    json!({ "name": r.name, "addresses": r.addresses })
                );
            } else {
                w!(
                    out,
                    "{}",
                    match ctx.lang {
                        Lang::Vi => format!(
                            "Đã mở khóa {}: xóa các lần nhập sai mật khẩu từ {} địa chỉ.",
                            r.name, r.addresses
                        ),
                        Lang::En => format!(
                            "Unlocked {}: forgot the wrong passwords from {} addresses.",
                            r.name, r.addresses
                        ),
                    }
                );
            }
            Ok(())
        }
        UserCommand::List => {
            let r = ctx
                .admin()?
                .list_users(pb::ListUsersRequest {})
                .await?
                .into_inner();
            if ctx.json {
                let users: Vec<_> = r.users.iter().map(user_json).collect();
                w!(out, "{}", json!({ "users": users }));
                return Ok(());
            }
            let head = match ctx.lang {
                Lang::Vi => ["TÊN", "VAI TRÒ", "MẬT KHẨU", "PHIÊN"],
                Lang::En => ["NAME", "ROLE", "PASSWORD", "SESSIONS"],
            };
            let mut rows: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
            rows.extend(r.users.iter().map(|u| {
                vec![
                    u.name.clone(),
                    u.role.clone(),
                    if u.must_change_password {
                        ctx.t("dùng một lần", "one-time").to_string()
                    } else {
                        ctx.t("đã đặt", "set").to_string()
                    },
                    u.sessions.to_string(),
                ]
            }));
            for line in super::table_lines(&rows) {
                w!(out, "{line}");
            }
            Ok(())
        }
    }
}
