/* global window, navigator, document, atob, btoa */
// Passkeys in the admin console: the only script it has (same origin, strict CSP). A button with
// data-passkey="register" or "authenticate" in a form holding the options (data-options, JSON from the
// server) asks the browser for a credential, puts it in the form's "credential" field and sends the
// form; the server verifies everything. Without WebAuthn the button stays hidden.
;(function () {
  'use strict'
  if (!window.PublicKeyCredential || !navigator.credentials) return
  var b64 = {
    decode: function (s) {
      s = s.replace(/-/g, '+').replace(/_/g, '/')
      while (s.length % 4) s += '='
      var bin = atob(s)
      var out = new Uint8Array(bin.length)
      for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
      return out.buffer
    },
    encode: function (buf) {
      var bytes = new Uint8Array(buf)
      var bin = ''
      for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i])
      return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    },
  }
  function creationOptions(o) {
    o.challenge = b64.decode(o.challenge)
    o.user.id = b64.decode(o.user.id)
    ;(o.excludeCredentials || []).forEach(function (c) {
      c.id = b64.decode(c.id)
    })
    return o
  }
  function requestOptions(o) {
    o.challenge = b64.decode(o.challenge)
    ;(o.allowCredentials || []).forEach(function (c) {
      c.id = b64.decode(c.id)
    })
    return o
  }
  function asJson(cred) {
    var r = cred.response
    var response = { clientDataJSON: b64.encode(r.clientDataJSON) }
    if (r.attestationObject) {
      response.attestationObject = b64.encode(r.attestationObject)
      response.transports = r.getTransports ? r.getTransports() : []
    }
    if (r.authenticatorData) {
      response.authenticatorData = b64.encode(r.authenticatorData)
      response.signature = b64.encode(r.signature)
      if (r.userHandle) response.userHandle = b64.encode(r.userHandle)
    }
    return JSON.stringify({
      id: cred.id,
      rawId: b64.encode(cred.rawId),
      type: cred.type,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults
        ? cred.getClientExtensionResults()
        : {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
    })
  }
  document.querySelectorAll('[data-passkey]').forEach(function (button) {
    var form = button.form
    var status = form.querySelector('[data-passkey-status]')
    button.hidden = false
    button.addEventListener('click', function (event) {
      event.preventDefault()
      var options = JSON.parse(form.getAttribute('data-options'))
      var ask =
        button.getAttribute('data-passkey') === 'register'
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) })
      ask.then(
        function (cred) {
          form.querySelector('input[name="credential"]').value = asJson(cred)
          form.submit()
        },
        function () {
          if (status) status.hidden = false
        },
      )
    })
  })
})()
