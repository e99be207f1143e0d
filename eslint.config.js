// ESLint for the browser code in auditapp/static (run by `make lint-js`, part of
// `make test`). The pages load these files as ES modules, with no build step; the
// service worker is a classic script.
import js from "@eslint/js";
import globals from "globals";

const rules = {
  ...js.configs.recommended.rules,
  "no-var": "error",
  "prefer-const": "error",
  eqeqeq: ["error", "always"],
  "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
  "no-shadow": "error",
  "no-throw-literal": "error",
  "object-shorthand": "error",
  "prefer-arrow-callback": "error",
};

export default [
  {
    files: ["auditapp/static/**/*.js"],
    ignores: ["auditapp/static/sw.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    rules,
  },
  {
    files: ["auditapp/static/sw.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: globals.serviceworker,
    },
    rules: { ...rules, strict: ["error", "global"] },
  },
];
