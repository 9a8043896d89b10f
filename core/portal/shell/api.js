// SPDX-License-Identifier: Apache-2.0
// api.js - the portal's only way to the server: the public REST API, authenticated by the
// atrium_session cookie (HttpOnly: no script ever sees the session token). Every request
// that changes something carries X-CSRF-Token, the value the browser-session route handed
// out for this session (kept in memory only). Shared with the plugins' pages as ctx.api.

let csrf = null;

export function setCsrf (token)
{
        csrf = token;
}

export class ApiError extends Error
{
        constructor(status, problem, headers)
        {
                super ((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
                this.status = status;
                this.problem = problem;
                this.headers = headers;
        }
}

async function request (method, path, body, opts = {})
{
        const headers = {Accept : 'application/json'};
        if (method !== 'GET' && method !== 'HEAD' && csrf)
                headers['X-CSRF-Token'] = csrf;
        let payload = body;
        if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData)) {
                headers['Content-Type'] = 'application/json';
                payload = JSON.stringify(body);
        }
        Object.assign(headers, opts.headers || {});
        const res =
                await fetch (path, {method, headers, body : payload, credentials : 'same-origin'});
        if (res.status === 204)
                return null;
        const type = res.headers.get('Content-Type') || '';
        const data = type.includes('json') ? await res.json() : await res.blob();
        if (!res.ok)
                throw new ApiError (res.status, type.includes('json') ? data : null, res.headers);
        return data;
}

export const api = {
        get : (path) => request ('GET', path),
        post : (path, body, opts) => request ('POST', path, body, opts),
        put : (path, body, opts) => request ('PUT', path, body, opts),
        patch : (path, body, opts) => request ('PATCH', path, body, opts),
        // opts.body: the few DELETEs that take one (DELETE /api/v1/me/totp {code}).
        del : (path, opts) => request ('DELETE', path, opts && opts.body, opts),
        csrf : () => csrf,
};
