// What both compiled-in pages (/chat and /staff) set up the same way: their wording (served by the
// server from the reviewed content as `text`), the language toggle, the status line, and how an
// API error becomes a code the wording can name and then words.
'use strict';
window.pageKit = function pageKit(text, languageKey) {
  const store = window.sessionStorage;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const languageButton = $('language');
  let language = store.getItem(languageKey) === 'en' ? 'en' : 'vi';
  const changed = [];
  // How many times the status line was set: a mark of what it says now, whatever the language.
  let said = 0;

  // A text of the page; `{name}` placeholders are filled from `values`.
  const t = (key, values = {}) => {
    const found = text[language][key] ?? text.vi[key] ?? key;
    return found.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  };
  const errorText = (code) => text[language].errors[code] ?? text[language].errors.default;

  function setStatus(words) {
    said += 1;
    status.textContent = words;
    return said;
  }

  function applyLanguage() {
    document.documentElement.lang = language;
    document.title = t('title');
    for (const element of document.querySelectorAll('[data-text]')) {
      element.textContent = t(element.dataset.text);
    }
    languageButton.textContent = t('other_language');
    languageButton.lang = language === 'vi' ? 'en' : 'vi';
    for (const listener of changed) listener(language);
  }

  class Failure extends Error {
    constructor(code) {
      super(code);
      this.code = code;
    }
  }

  // The API's error code of a failed response, as a Failure to throw.
  async function failureOf(response) {
    try {
      const body = await response.json();
      return new Failure(body.error || 'default');
    } catch {
      return new Failure('default');
    }
  }

  // The words for what went wrong: the API's code when it gave one.
  const errorOf = (error) => errorText(error instanceof Failure ? error.code : 'default');

  languageButton.addEventListener('click', () => {
    language = language === 'vi' ? 'en' : 'vi';
    store.setItem(languageKey, language);
    applyLanguage();
  });

  return {
    $,
    t,
    errorText,
    errorOf,
    Failure,
    failureOf,
    store,
    language: () => language,
    // Answers a mark for `clearStatus`.
    setStatus,
    // Empties the status line if it still says what was set when `setStatus` gave `mark`.
    clearStatus: (mark) => {
      if (mark === said) setStatus('');
    },
    // `listener(language)` runs after every change of language (and not at setup).
    onLanguage: (listener) => changed.push(listener),
    applyLanguage,
  };
};
