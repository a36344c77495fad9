// The catalogue and booking routes in the OpenAPI document.
import { z } from 'zod';
import { errors, jsonRequest, idPath, json, roles, type Paths } from '../openapi/common.js';
import { pageQuery } from '../shared/pagination.js';
import { adminListQuery, adminPatchBody, createBookingBody } from './schemas.js';
import { bookingPage, bookingView, serviceView } from './views.js';

export const bookingPaths: Paths = {
  '/api/services': {
    get: {
      summary: 'The catalogue',
      tags: ['bookings'],
      ...roles('anyone'),
      responses: { '200': json('Every service', z.object({ items: z.array(serviceView) })), ...errors.always },
    },
  },
  '/api/bookings': {
    post: {
      summary: 'Book a service',
      tags: ['bookings'],
      ...roles('user'),
      description:
        'Amounts are computed on the server in paise: CGST + SGST when the billing state is the supplier’s, IGST otherwise. A GSTIN must belong to the billing state.',
      requestBody: jsonRequest(createBookingBody),
      responses: {
        '201': json('The booking (`Location` names it)', bookingView),
        ...errors.jsonBody(),
        ...errors.unauthorized,
        ...errors.always,
      },
    },
    get: {
      summary: 'The caller’s bookings, newest first',
      tags: ['bookings'],
      ...roles('user'),
      requestParams: { query: pageQuery },
      responses: {
        '200': json('One page', bookingPage),
        ...errors.badRequest(),
        ...errors.unauthorized,
        ...errors.always,
      },
    },
  },
  '/api/bookings/{id}': {
    get: {
      summary: 'One of the caller’s bookings',
      tags: ['bookings'],
      ...roles('user'),
      requestParams: { path: idPath },
      responses: {
        '200': json('The booking', bookingView),
        ...errors.unauthorized,
        ...errors.notFound('booking'),
        ...errors.always,
      },
    },
  },
  '/api/admin/bookings': {
    get: {
      summary: 'All bookings',
      tags: ['admin'],
      ...roles('admin'),
      description: '`from` and `to` filter on the scheduled date (YYYY-MM-DD, whole UTC days, or ISO date-times).',
      requestParams: { query: adminListQuery },
      responses: {
        '200': json('One page', bookingPage),
        ...errors.badRequest(),
        ...errors.unauthorized,
        ...errors.forbidden,
        ...errors.always,
      },
    },
  },
  '/api/admin/bookings/{id}': {
    patch: {
      summary: 'Change a booking’s status',
      tags: ['admin'],
      ...roles('admin'),
      description:
        'pending → confirmed → completed; pending or confirmed → cancelled. Cancelling an invoiced booking issues its credit note in the same transaction, with `reason`.',
      requestParams: { path: idPath },
      requestBody: jsonRequest(adminPatchBody),
      responses: {
        '200': json('The booking after the change', bookingView),
        ...errors.jsonBody(),
        ...errors.unauthorized,
        ...errors.forbidden,
        ...errors.notFound('booking'),
        ...errors.conflict('invalid_transition', 'concurrent_update', 'financial_year_changed'),
        ...errors.always,
      },
    },
  },
};
