// The demo chat: the official Socket.IO browser client against Relay. Rooms, messages and
// who-is-typing; see src/server/demo_chat.cpp for the server side.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  let socket = null;
  const typers = new Map();  // name -> timer that clears it

  function add(text, cls) {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    $('messages').append(li);
    li.scrollIntoView({ block: 'end' });
  }

  function showTyping() {
    const names = [...typers.keys()];
    $('typing').textContent = names.length === 0 ? ''
      : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    const token = $('token').value.trim();
    if (!name && !token) return;
    // With JWT on (relay serve --jwt-secret), the server takes the name from the token's "sub".
    if (socket) socket.close();
    socket = io({ auth: token ? { name, token } : { name } });
    $('refused').textContent = '';
    socket.on('connect_error', (err) => {
      // A refused token (expired, bad signature, ...): say why, and let the user try another.
      $('refused').textContent = `refused: ${err.message}`;
      socket.close();
    });
    socket.on('connect', () => {
      $('status').textContent = 'online';
      $('status').dataset.state = 'online';
    });
    socket.on('disconnect', () => {
      $('status').textContent = 'offline';
      $('status').dataset.state = 'offline';
    });
    socket.on('welcome', (w) => {
      $('current-room').textContent = `in #${w.room}`;
      $('login').hidden = true;
      $('chat').hidden = false;
      $('text').focus();
    });
    socket.on('chat', (m) => add(`${m.from}: ${m.text}`, 'chat'));
    socket.on('system', (m) => add(m.text, 'system'));
    socket.on('typing', ({ from, typing }) => {
      clearTimeout(typers.get(from));
      if (typing) {
        typers.set(from, setTimeout(() => { typers.delete(from); showTyping(); }, 3000));
      } else {
        typers.delete(from);
      }
      showTyping();
    });
  });

  let typingSent = false;
  let typingTimer = null;
  $('text').addEventListener('input', () => {
    if (!socket) return;
    if (!typingSent) {
      socket.emit('typing', true);
      typingSent = true;
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { socket.emit('typing', false); typingSent = false; }, 1000);
  });

  $('send').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text || !socket) return;
    socket.emit('chat', text);
    $('text').value = '';
    clearTimeout(typingTimer);
    if (typingSent) {
      socket.emit('typing', false);
      typingSent = false;
    }
  });

  $('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = $('room').value.trim();
    if (!room || !socket) return;
    socket.emit('join', room, (r) => {
      if (r.error) {
        add(r.error, 'system');
        return;
      }
      $('messages').replaceChildren();
      $('current-room').textContent = `in #${r.room}`;
    });
  });
})();
