/* sso-bridge settings page: "Sync all users now", one batch per request, with progress. */
;(function () {
  'use strict'
  var button = document.getElementById('sso-bridge-sync-all')
  var bar = document.getElementById('sso-bridge-sync-progress')
  var status = document.getElementById('sso-bridge-sync-status')
  if (!button || !window.ssoBridgeSync) return

  function batch(offset, accepted, rejected) {
    var body = new URLSearchParams()
    body.set('action', 'sso_bridge_sync_batch')
    body.set('_ajax_nonce', window.ssoBridgeSync.nonce)
    body.set('offset', String(offset))
    return fetch(window.ssoBridgeSync.url, {
      method: 'POST',
      credentials: 'same-origin',
      body: body,
    })
      .then(function (res) {
        return res.json()
      })
      .then(function (answer) {
        if (!answer || !answer.success) {
          throw new Error((answer && answer.data && answer.data.error) || 'the sync failed')
        }
        var r = answer.data
        accepted += r.accepted
        rejected = rejected.concat(r.rejected)
        bar.max = Math.max(r.total, 1)
        bar.value = r.done
        status.textContent =
          r.done +
          ' of ' +
          r.total +
          ' users sent; ' +
          accepted +
          ' accepted, ' +
          rejected.length +
          ' rejected'
        if (r.done < r.total && r.done > offset) return batch(r.done, accepted, rejected)
        status.textContent =
          'Done: ' +
          accepted +
          ' of ' +
          r.total +
          ' users accepted, ' +
          rejected.length +
          ' rejected' +
          (rejected.length
            ? ' (' +
              rejected
                .slice(0, 20)
                .map(function (x) {
                  return x.external_id + ': ' + x.error
                })
                .join(', ') +
              ')'
            : '') +
          '.'
      })
  }

  button.addEventListener('click', function () {
    button.disabled = true
    bar.hidden = false
    bar.value = 0
    status.textContent = 'Starting…'
    batch(0, 0, [])
      .catch(function (err) {
        status.textContent = 'Stopped: ' + err.message
      })
      .then(function () {
        button.disabled = false
      })
  })
})()
