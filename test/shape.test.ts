import 'reflect-metadata'
import { expect } from 'chai'
import { ProcessingActivityWrite } from '../src/dto/register'
import { referencesIn, shapeOf } from '../src/dto/shape'
import { RESOURCES, viewName, viewNames } from '../src/register/records/model'
import { allSchemas } from '../src/register/records/view-schemas'
import { documentPath } from '../src/register/exchange/import'

describe('one declaration per shape (src/dto/shape.ts)', () => {
  const schemas = new Map(allSchemas().map((s) => [s.$id, s]))

  it('shows every declared field of every resource in its view schema, under its view name, in the declared order', () => {
    for (const r of RESOURCES) {
      const view = schemas.get(r.viewSchema)!
      const shown = Object.keys(view.properties)
      const declared = shapeOf(r.writeClass).map(viewName)
      expect(declared.every((n) => shown.includes(n)), `${r.viewSchema} shows ${declared.filter((n) => !shown.includes(n))}`).to.equal(true)
      const order = declared.map((n) => shown.indexOf(n))
      expect(order, r.viewSchema).to.deep.equal([...order].sort((a, b) => a - b))
    }
  })

  it('names what every reference refers to', () => {
    for (const f of viewNames().values()) expect(f.to, f.name).to.be.a('string')
    for (const r of RESOURCES) {
      for (const f of shapeOf(r.writeClass)) if (f.kind === 'ref' || f.kind === 'refs') expect(f.to && f.as, `${r.writeSchema}.${f.name}`).to.be.ok
    }
  })

  it('finds every reference of a write body with the field path to blame, nested lists included, not the ids checked among the record\'s own', () => {
    const body = {
      name: 'x', role: 'controller', controllerId: 'c1', jointControllerIds: ['c2'],
      purposes: [{ purposeId: 'p1', legalBasisIds: ['A6-1-b', 'l2'] }],
      dataCategoryIds: ['d1'], transfers: [{ country: 'US', processorId: 'pr1' }],
      retention: [{ retentionRuleId: 'r1', dataCategoryIds: ['d1'] }],
    }
    expect(referencesIn(ProcessingActivityWrite, body)).to.deep.equal([
      { type: 'controller', id: 'c1', field: 'controllerId' },
      { type: 'controller', id: 'c2', field: 'jointControllerIds[0]' },
      { type: 'purpose', id: 'p1', field: 'purposes[0].purposeId' },
      { type: 'legal-basis', id: 'A6-1-b', field: 'purposes[0].legalBasisIds[0]' },
      { type: 'legal-basis', id: 'l2', field: 'purposes[0].legalBasisIds[1]' },
      { type: 'data-category', id: 'd1', field: 'dataCategoryIds[0]' },
      { type: 'processor', id: 'pr1', field: 'transfers[0].processorId' },
      { type: 'retention-rule', id: 'r1', field: 'retention[0].retentionRuleId' },
    ])
  })

  it('gives the import the place in a document of a write body\'s field', () => {
    const at = 'processingActivities[3]'
    expect(documentPath(at, 'purposes[0].legalBasisIds[1]')).to.equal(`${at}.purposes[0].legalBases[1].id`)
    expect(documentPath(at, 'controllerId')).to.equal(`${at}.controller.id`)
    expect(documentPath(at, 'processorIds')).to.equal(`${at}.processors`)
    expect(documentPath(at, 'retention[0].dataCategoryIds[2]')).to.equal(`${at}.retention[0].dataCategories[2].id`)
    expect(documentPath(at, 'transfers[1].mechanism')).to.equal(`${at}.transfers[1].mechanism.code`)
    expect(documentPath('processors[0]', 'subProcessorIds[0]')).to.equal('processors[0].subProcessors[0].id')
  })
})
