import { expect } from 'chai';
import { computeTax, gstinCheckCharacter, isGstin } from '../server/bookings/gst.js';

describe('GST rules', () => {
  it('accepts a GSTIN with a correct check character and rejects a wrong one', () => {
    expect(isGstin('27AAPFU0939F1ZV')).to.equal(true);
    expect(isGstin('27AAPFU0939F1ZW')).to.equal(false);
    expect(isGstin('27aapfu0939f1zv')).to.equal(false);
    expect(isGstin('99AAPFU0939F1ZV')).to.equal(false); // no state 99
    expect(gstinCheckCharacter('29ABCDE1234F1Z')).to.equal('W');
  });

  it('splits 18 % into CGST 9 % + SGST 9 % within a state and IGST 18 % across states, in paise', () => {
    expect(computeTax(199_900, 1800, true)).to.deep.equal({
      taxablePaise: 199_900,
      gstRateBp: 1800,
      cgstPaise: 17_991,
      sgstPaise: 17_991,
      igstPaise: 0,
      totalPaise: 235_882,
    });
    expect(computeTax(199_900, 1800, false)).to.deep.equal({
      taxablePaise: 199_900,
      gstRateBp: 1800,
      cgstPaise: 0,
      sgstPaise: 0,
      igstPaise: 35_982,
      totalPaise: 235_882,
    });
  });

  it('rounds each tax head half-up in integers', () => {
    // 9 % of 5 paise = 0.45 -> 0; 9 % of 50 paise = 4.5 -> 5
    expect(computeTax(5, 1800, true).cgstPaise).to.equal(0);
    expect(computeTax(50, 1800, true).cgstPaise).to.equal(5);
    expect(computeTax(50, 1800, false).igstPaise).to.equal(9);
  });
});
