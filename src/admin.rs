//! Administration commands of the server binary (`testit createsuperuser …`), run against
//! the store the settings name, beside a running server or without one.

use serde_json::{json, Map, Value};

use crate::accounts::directory;
use crate::domain::input::Input;
use crate::settings::Settings;
use crate::store::{Store, StoreError};

/// The variable `createsuperuser` reads the password from (else from standard input).
pub const PASSWORD_VAR: &str = "TESTIT_SUPERUSER_PASSWORD";

pub const USAGE: &str = "usage: testit [serve]
       testit createsuperuser --username NAME [--email EMAIL] [--first-name F] [--last-name L]
           password from TESTIT_SUPERUSER_PASSWORD, else the first line of standard input";

/// `createsuperuser`: an account with a username that holds every permission and alone may
/// grant them. Answers a line for the operator, or what went wrong.
pub async fn create_superuser(settings: &Settings, args: &[String]) -> Result<String, String> {
    let mut fields = Map::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let field = match flag.as_str() {
            "--username" => "username",
            "--email" => "email",
            "--first-name" => "first_name",
            "--last-name" => "last_name",
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        };
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        fields.insert(field.to_owned(), json!(value));
    }
    if !fields.contains_key("username") {
        return Err(format!("--username is required\n{USAGE}"));
    }
    let password = match std::env::var(PASSWORD_VAR) {
        Ok(password) if !password.is_empty() => password,
        _ => {
            eprintln!("Password (one line on standard input):");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    fields.insert("password".to_owned(), Value::String(password));

    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let store = Store::open(&settings.database_url)
        .await
        .map_err(|e: StoreError| format!("cannot open the store: {e}"))?;
    let user = directory::sign_up(&store, Input::new(fields))
        .await
        .map_err(|e| format!("not created: {e}"))?;
    store
        .users()
        .update(user.id, |u| {
            u.is_superuser = true;
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(|e| format!("created, but not made a superuser: {e}"))?
        .ok_or("created, but gone before it was made a superuser")?;
    Ok(format!(
        "Superuser {:?} created (id {}).",
        user.username.unwrap_or_default(),
        user.id
    ))
}
