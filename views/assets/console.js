// The console's progressive enhancement (no page needs it: every form works without JavaScript).
// Served from /assets (script-src 'self'); nothing fetched from elsewhere.
'use strict'

// Copy buttons: <button type="button" class="copy" data-copy="#id-of-element-or-input">Copy</button>.
// Shown only when the clipboard can be written (they are `hidden` in the HTML until then).
document.addEventListener('DOMContentLoaded', () => {
  if (!navigator.clipboard) return
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false
    button.addEventListener('click', async () => {
      const source = document.querySelector(button.dataset.copy)
      if (!source) return
      const text = 'value' in source && source.value !== undefined ? source.value : source.textContent
      try {
        await navigator.clipboard.writeText(text.trim())
        const label = button.textContent
        button.textContent = 'Copied'
        button.setAttribute('aria-live', 'polite')
        setTimeout(() => { button.textContent = label }, 1500)
      } catch {
        button.textContent = 'Copy failed — select and copy by hand'
      }
    })
  }
})
