// The auth routes in the OpenAPI document.
import { errors, jsonRequest, json, roles, type Paths } from '../openapi/common.js';
import { loginBody, passwordBody, registerBody, sessionView, userView } from './schemas.js';
import { z } from 'zod';

export const authPaths: Paths = {
  '/api/auth/register': {
    post: {
      summary: 'Register a customer account',
      tags: ['auth'],
      ...roles('anyone'),
      description: 'Limited per client address (`REGISTER_RATE_LIMIT` per `LOGIN_RATE_WINDOW_MS`).',
      requestBody: jsonRequest(registerBody),
      responses: {
        '201': json('The account and a token', sessionView),
        ...errors.jsonBody(),
        ...errors.conflict('email_taken'),
        ...errors.rateLimited,
        ...errors.always,
      },
    },
  },
  '/api/auth/login': {
    post: {
      summary: 'Log in',
      tags: ['auth'],
      ...roles('anyone'),
      description:
        'One message for an unknown email and a wrong password. Limited per client (`LOGIN_RATE_LIMIT` per window), successful logins included.',
      requestBody: jsonRequest(loginBody),
      responses: {
        '200': json('A token and the user', sessionView),
        ...errors.jsonBody(),
        ...errors.unauthorized,
        ...errors.rateLimited,
        ...errors.always,
      },
    },
  },
  '/api/auth/me': {
    get: {
      summary: 'The caller',
      tags: ['auth'],
      ...roles('user'),
      responses: {
        '200': json('The caller', z.object({ user: userView })),
        ...errors.unauthorized,
        ...errors.notFound('user'),
        ...errors.always,
      },
    },
  },
  '/api/auth/password': {
    post: {
      summary: 'Change the password',
      tags: ['auth'],
      ...roles('user'),
      description: 'Every other token of the account stops working; the answer carries a fresh one.',
      requestBody: jsonRequest(passwordBody),
      responses: {
        '200': json('A fresh token', sessionView),
        ...errors.jsonBody(),
        ...errors.unauthorized,
        ...errors.rateLimited,
        ...errors.always,
      },
    },
  },
  '/api/auth/logout-all': {
    post: {
      summary: 'Log out everywhere',
      tags: ['auth'],
      ...roles('user'),
      description: 'Every token of the account stops working, this one too.',
      responses: { '204': { description: 'Done' }, ...errors.unauthorized, ...errors.always },
    },
  },
};
