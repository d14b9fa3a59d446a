// Copy buttons, the retry button, and a watchdog for a server that stopped answering; event delegation, so the
// answer HTML carries no script and no inline handler. Loaded into the page's head by web.app.
(() => {
  const copyText = (text, btn) => {
    const done = () => { const t = btn.dataset.label || btn.textContent; btn.dataset.label = t;
                         btn.textContent = '已复制'; setTimeout(() => { btn.textContent = t; }, 1500); };
    const fallback = () => { const ta = document.createElement('textarea'); ta.value = text;
      document.body.appendChild(ta); ta.select(); try { document.execCommand('copy'); done(); } catch (e) {} ta.remove(); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  };
  document.addEventListener('click', (e) => {
    const b = e.target.closest('.uq-copy, .uq-copy-link, .uq-retry');
    if (!b) return;
    if (b.classList.contains('uq-retry')) { document.querySelector('#uq-submit')?.click(); return; }
    const text = b.classList.contains('uq-copy-link')
      ? new URL(b.dataset.copy, location.href.split('#')[0]).href : b.dataset.copy;
    copyText(text, b);
  });
  // while a question is out: when the page still waits after a few seconds, ask whether the server is there;
  // the page may redraw the answer box (its placeholder comes back), so look again until the answer is in
  window.uqWatch = () => {
    const started = Date.now();
    let down = false;
    const check = async () => {
      const wait = document.querySelector('#uq-answer .uq-waiting');
      if (!wait) return;  // answered
      let up = true;
      try { const r = await fetch(location.pathname.replace(/[^/]*$/, '') + 'config', {cache: 'no-store'});
            up = r.ok || r.status === 401; } catch (e) { up = false; }
      down = down || !up;
      const slow = up && !down && Date.now() - started > 120000;
      const now = document.querySelector('#uq-answer .uq-waiting');
      if (now && (down || slow) && !now.querySelector('.uq-retry')) {
        const said = !up ? '无法连接到服务器（可能已停止或正在重启），这个问题还没有答案。'
          : down ? '服务器已恢复，但这个问题在中断时丢失了，请点击重试。' : '服务器长时间没有回应，这个问题还没有答案。';
        now.innerHTML = '<div class="uq-down">' + said + '</div><button class="uq-retry" type="button">重试</button>';
      } else if (now && down && up && now.querySelector('.uq-down')) {
        now.querySelector('.uq-down').textContent = '服务器已恢复，但这个问题在中断时丢失了，请点击重试。';
      }
      if (now) setTimeout(check, 2000);
    };
    setTimeout(check, 2000);
  };
  // the typed question survives a server restart (Gradio then resets the page) and a reload: kept in the
  // browser until it has been answered; a question sent but not answered is kept too
  const TYPED = 'uq-question', SENT = 'uq-question-sent';
  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('#uq-question')) localStorage.setItem(TYPED, e.target.value);
  });
  window.uqSent = () => { const box = document.querySelector('#uq-question textarea');
    if (box && box.value) localStorage.setItem(SENT, box.value); localStorage.removeItem(TYPED); };
  window.uqAnswered = () => localStorage.removeItem(SENT);
  setInterval(() => {
    const box = document.querySelector('#uq-question textarea');
    const saved = localStorage.getItem(TYPED) || localStorage.getItem(SENT);
    if (!box || !saved || box.value || document.querySelector('#uq-answer .uq-waiting')) return;
    box.value = saved;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    const note = document.querySelector('#uq-restored');
    if (note) note.textContent = '已连接到服务器；您输入的问题已保留，可以接着提问。';
  }, 1000);
})();
