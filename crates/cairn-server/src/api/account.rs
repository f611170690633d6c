//! Browser sign-in: `/api/auth/*` and `/api/session`.
//!
//! Sign-up and sign-in answer with the session (user, CSRF token, expiry) and set the
//! session cookie; `GET /api/session` gives the same to a page that loads with a cookie.
//! Wrong e-mail and wrong password get the same answer, in the same time.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_store::{StoreError, User, UserRole};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{self, NewUser};
use crate::auth::{Principal, hash_key};
use crate::config::Signup;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::util::now_ms;
use crate::web::password;
use crate::web::session::{self, CurrentSession, SignedIn};
use crate::web::throttle::ClientAddr;

/// What the sign-in page needs to know before anyone signs in.
pub async fn options(State(app): State<AppState>) -> Json<Value> {
    Json(json!({
        "signup": match app.config.web.signup {
            Signup::Open => "open",
            Signup::Invite => "invite",
        },
    }))
}

pub async fn current(State(app): State<AppState>, signed_in: SignedIn) -> Json<Value> {
    Json(session::session_json(
        &app,
        &signed_in.principal.user,
        &signed_in.session,
    ))
}

/// A new session for `user`, as the response that sets its cookie.
async fn signed_in_response(
    app: &AppState,
    request: &HeaderMap,
    user: &User,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (session, token) = session::start(app, user).await?;
    Ok((
        status,
        [(
            header::SET_COOKIE,
            session::set_cookie(app, request, &token),
        )],
        Json(session::session_json(app, user, &session)),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    email: String,
    password: String,
}

fn wrong_credentials() -> ApiError {
    ApiError::Unauthenticated("wrong e-mail or password".into())
}

pub async fn sign_in(
    State(app): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(input): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    session::check_same_origin(&headers)?;
    let email = input.email.trim().to_lowercase();
    app.login_throttle.check(&email, &client, Instant::now())?;
    let user = app
        .store
        .find_user(&email)
        .await?
        .filter(|u| u.email == email);
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let matches = password::verify(&input.password, hash).await?;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            app.login_throttle.failed(&email, &client, Instant::now());
            return Err(wrong_credentials());
        }
    };
    app.login_throttle.succeeded(&email, &client);
    signed_in_response(&app, &headers, &user, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    email: String,
    password: String,
    name: Option<String>,
    /// The token of an admin's invitation; needed when sign-up is by invitation.
    invitation: Option<String>,
}

pub async fn sign_up(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<SignUp>,
) -> Result<Response, ApiError> {
    session::check_same_origin(&headers)?;
    password::check_rules(&input.password, "password")?;
    let email = input.email.trim().to_lowercase();
    let invitation = match &input.invitation {
        Some(token) => {
            let invitation = app
                .store
                .find_invitation(&hash_key(token.trim()))
                .await?
                .filter(|i| i.is_open(now_ms()))
                .ok_or_else(invalid_invitation)?;
            if invitation.email.as_ref().is_some_and(|e| *e != email) {
                return Err(ApiError::Forbidden {
                    message: "this invitation is for another e-mail address".into(),
                    code: "invitation_for_other_email",
                });
            }
            Some(invitation)
        }
        None if app.config.web.signup == Signup::Open => None,
        None => {
            return Err(ApiError::Forbidden {
                message: "sign-up is by invitation: ask an admin for a link".into(),
                code: "invitation_required",
            });
        }
    };
    let mut user = accounts::build_user(
        app.store.as_ref(),
        &app.config,
        NewUser {
            email,
            name: input.name.filter(|n| !n.trim().is_empty()),
            role: UserRole::Member,
            tier: invitation.as_ref().and_then(|i| i.tier.clone()),
            org: None,
        },
    )
    .await?;
    user.password_hash = Some(password::hash(&input.password).await?);
    match (&invitation, &input.invitation) {
        (Some(_), Some(token)) => app
            .store
            .create_user_with_invitation(&user, &hash_key(token.trim()))
            .await
            .map_err(|err| match err {
                StoreError::NotFound { .. } => invalid_invitation(),
                other => other.into(),
            })?,
        _ => app.store.create_user(&user).await?,
    }
    signed_in_response(&app, &headers, &user, StatusCode::CREATED).await
}

fn invalid_invitation() -> ApiError {
    ApiError::NotFound {
        message: "this invitation is not valid: it was used, revoked, or has expired".into(),
        param: Some("invitation".into()),
        code: "invitation_invalid",
    }
}

/// Ends the browser's session (when there is one) and clears its cookie. A session that
/// already ended still gets its cookie cleared; a live one needs its CSRF token.
pub async fn sign_out(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session::cookie_token(&headers)
        && let Some(found) = app.store.find_session(&hash_key(&token), now_ms()).await?
    {
        session::check_csrf(&headers, &found)?;
        app.store.delete_session(&found.id).await?;
    }
    Ok((
        [(header::SET_COOKIE, session::clear_cookie(&app, &headers))],
        Json(json!({ "signed_out": true })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password (the current one is needed when there is one) and ends
/// every other session of theirs.
pub async fn change_password(
    State(app): State<AppState>,
    principal: Principal,
    current: Option<axum::Extension<CurrentSession>>,
    ApiJson(input): ApiJson<ChangePassword>,
) -> Result<Json<Value>, ApiError> {
    password::check_rules(&input.new_password, "new_password")?;
    let user = &principal.user;
    if user.password_hash.is_some()
        && !password::verify(&input.current_password, user.password_hash.as_deref()).await?
    {
        return Err(ApiError::Forbidden {
            message: "the current password is wrong".into(),
            code: "wrong_password",
        });
    }
    let hash = password::hash(&input.new_password).await?;
    app.store.set_password_hash(&user.id, Some(&hash)).await?;
    let keep = current
        .as_ref()
        .map(|axum::Extension(CurrentSession(s))| s.id.as_str());
    let ended = app.store.delete_user_sessions(&user.id, keep).await?;
    Ok(Json(
        json!({ "changed": true, "other_sessions_ended": ended }),
    ))
}
