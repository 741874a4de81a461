//! Account photos sent as files: the profile doors that take `photo` (`/api/users/me`, seed
//! 002's `PATCH /api/v1/accounts/users/{id}/`) also read multipart/form-data, whose `photo`
//! part is kept in the catalog's file store; the account then holds the file's URL.

use actix_web::{web, FromRequest, HttpRequest};
use serde_json::Value;

use super::body::Body;
use super::links::answer_base;
use super::media::{forget, is_multipart, read_form, title_from_name, MAX_TITLE_CHARS};
use crate::catalog::files::MediaKind;
use crate::catalog::views::file_out;
use crate::domain::input::Input;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::MediaFile;

/// The multipart part that carries the photo's bytes.
pub const PHOTO: &str = "photo";

/// A profile change's body: the fields, and the photo file recorded for it, if one was sent.
pub struct ProfileBody {
    /// With a sent photo, `photo` is its absolute URL.
    pub input: Input,
    pub photo: Option<Photo>,
}

/// A photo recorded as a [`MediaFile`] for a change that has not been made yet.
pub struct Photo {
    pub file: MediaFile,
    pub url: String,
}

impl Photo {
    /// Removes the file again: the change it was sent with was refused, and the account
    /// never named it.
    pub async fn forget(&self, state: &AppState) {
        forget(state, &self.file).await;
    }
}

/// Reads a profile change: JSON or form data exactly as [`Body`] reads it, or
/// multipart/form-data whose text parts are the same fields and whose `photo` part must be
/// an image. The photo is recorded (by `uploader`) before the change's rules run, since the
/// URL the account keeps names the file's id: the caller forgets it if the change fails.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    uploader: i64,
) -> Result<ProfileBody, ApiError> {
    if !is_multipart(req) {
        let Body(input) = Body::from_request(req, &mut payload.into_inner()).await?;
        return Ok(ProfileBody { input, photo: None });
    }
    let mut form = read_form(req, payload, state, PHOTO, Some(MediaKind::Image)).await?;
    let photo = match form.file {
        None => None,
        Some(upload) => {
            // The title is only for the catalog's file list: cut, not refused, when long.
            let title = title_from_name(&upload.filename)
                .chars()
                .take(MAX_TITLE_CHARS)
                .collect();
            let file = upload.record(state, title, uploader).await?;
            let url = file_out(&answer_base(req, state), &file).file;
            form.fields
                .insert(PHOTO.to_owned(), Value::String(url.clone()));
            Some(Photo { file, url })
        }
    };
    Ok(ProfileBody {
        input: Input::new(form.fields),
        photo,
    })
}
