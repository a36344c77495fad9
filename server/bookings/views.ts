// What the booking routes answer: these schemas type the views and describe them in the API document.
import { z } from 'zod';
import { isoDateTime, page } from '../openapi/common.js';
import { BOOKING_STATUSES } from './repository.js';

const paise = z.number().int().meta({ description: 'an amount in paise (1/100 rupee), never a float' });

export const serviceView = z
  .object({
    code: z.string(),
    name: z.string(),
    description: z.string(),
    sac: z.string().meta({ description: 'the GST services accounting code' }),
    pricePaise: paise,
    gstRateBp: z.number().int().meta({ description: 'GST rate in basis points (1800 = 18 %)' }),
  })
  .meta({ id: 'Service' });

export const bookingView = z
  .object({
    id: z.number().int(),
    serviceCode: z.string(),
    serviceName: z.string(),
    scheduledAt: isoDateTime,
    status: z.enum(BOOKING_STATUSES),
    notes: z.string().nullable(),
    billing: z.object({
      name: z.string(),
      address: z.string(),
      city: z.string(),
      state: z.string().meta({ description: 'two-digit GST state code' }),
      pincode: z.string(),
      gstin: z.string().nullable(),
    }),
    sac: z.string(),
    amounts: z.object({
      taxablePaise: paise,
      gstRateBp: z.number().int(),
      cgstPaise: paise,
      sgstPaise: paise,
      igstPaise: paise,
      totalPaise: paise,
    }),
    supplyType: z.enum(['intra-state', 'inter-state']),
    invoiceNumber: z.string().nullable(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Booking' });

export const bookingPage = page(bookingView);
export type BookingView = z.infer<typeof bookingView>;
export type ServiceView = z.infer<typeof serviceView>;
